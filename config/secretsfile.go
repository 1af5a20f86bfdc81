package config

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// SecretInFileWarnings says, one line per key, which secrets the file
// holds (a field tagged secret, or a password in redis.url, set and not
// replaced by the environment), naming the variable each belongs in:
// secrets belong in the environment, not in the file (docs/deploy.md). The
// file still works; no line shows a value.
func (c Config) SecretInFileWarnings() []string {
	var out []string
	var walk func(rv reflect.Value, path, env string)
	walk = func(rv reflect.Value, path, env string) {
		t := rv.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
			if !sf.IsExported() || tag == "" || tag == "-" {
				continue
			}
			at, name := tag, env+"_"+strings.ToUpper(tag)
			if path != "" {
				at = path + "." + tag
			}
			f := rv.Field(i)
			switch {
			case f.Kind() == reflect.Struct:
				walk(f, at, name)
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
				for j := range f.Len() {
					walk(f.Index(j), at+"["+strconv.Itoa(j)+"]", name+"_"+strconv.Itoa(j))
				}
			case sf.Tag.Get("secret") == "true" && !isZeroSecret(f):
				if _, env := c.fromEnv[at]; !env {
					out = append(out, fmt.Sprintf("%s is a secret written in the file: move it to the environment variable %s (secrets belong there, not in the file; docs/deploy.md)", at, name))
				} else if w := c.bothWarning(at, "docs/deploy.md"); w != "" {
					out = append(out, w)
				}
			}
		}
	}
	walk(reflect.ValueOf(c), "", EnvPrefix)
	if _, env := c.fromEnv["redis.url"]; !env && urlHasPassword(c.Redis.URL) {
		out = append(out, "redis.url holds a password written in the file: move the whole URL to the environment variable "+EnvPrefix+"_REDIS_URL (secrets belong there, not in the file; docs/redis.md)")
	} else if w := c.bothWarning("redis.url", "docs/redis.md"); w != "" {
		out = append(out, w)
	}
	return out
}

// bothWarning says that the secret at key path at (or redis.url, holding
// a password in the file) is given both in the file and in its
// environment variable, which wins; "" if it is not. No value is shown.
func (c Config) bothWarning(at, doc string) string {
	name, ok := c.secretInBoth[at]
	if !ok {
		return ""
	}
	what := at + " is a secret given both in the file and in the environment variable " + name
	if at == "redis.url" {
		what = "redis.url holds a password in the file and is given in the environment variable " + name + " too"
	}
	return what + ": the environment's value is used, the file's is ignored; delete it from the file (secrets belong in the environment; " + doc + ")"
}

// isZeroSecret reports whether a secret field (a string or a list of them) is empty.
func isZeroSecret(f reflect.Value) bool {
	switch f.Kind() {
	case reflect.String:
		return f.String() == ""
	case reflect.Slice:
		for j := range f.Len() {
			if e := f.Index(j); e.Kind() == reflect.String && e.String() != "" {
				return false
			}
		}
		return true
	}
	return f.IsZero()
}

// urlHasPassword reports whether a URL carries a password: in its user
// part, or as sentinel_password (go-redis's options in the query).
func urlHasPassword(raw string) bool {
	rest, ok := strings.CutPrefix(raw, "redis+sentinel://")
	if !ok {
		if _, r, found := strings.Cut(raw, "://"); found {
			rest = r
		}
	}
	authority, query := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		query = rest[i+1:]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		if _, pass, found := strings.Cut(authority[:at], ":"); found && pass != "" {
			return true
		}
	}
	q, _ := url.ParseQuery(query)
	return q.Get("sentinel_password") != "" || q.Get("password") != ""
}
