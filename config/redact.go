package config

import (
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// RedactedValue replaces every non-empty secret in Config.Redacted.
const RedactedValue = "[redacted]"

// Redacted returns a deep copy safe to log: tokens and secrets become "[redacted]", the password in
// redis.url and everything after the host of a webhook URL (which often carries a token) are hidden.
func (c Config) Redacted() Config {
	r := c
	r.Admins = slices.Clone(c.Admins)
	r.Redis.ClusterAddrs = slices.Clone(c.Redis.ClusterAddrs)
	r.Redis.URL = redactURLPassword(c.Redis.URL)
	r.Discord.GuildIDs = slices.Clone(c.Discord.GuildIDs)
	r.Reminders.Before = slices.Clone(c.Reminders.Before)

	r.API.Tokens = slices.Clone(c.API.Tokens)
	r.Webhooks = slices.Clone(c.Webhooks)
	for i := range r.Webhooks {
		r.Webhooks[i].URL = redactURLPath(r.Webhooks[i].URL)
	}
	r.People = slices.Clone(c.People)
	for i := range r.People {
		r.People[i].IDs = slices.Clone(c.People[i].IDs)
	}
	r.Services = slices.Clone(c.Services)
	for i := range r.Services {
		s := &r.Services[i]
		s.Owners = slices.Clone(s.Owners)
		s.Channels = slices.Clone(s.Channels)
		s.DependsOn = slices.Clone(s.DependsOn)
	}
	// Every field tagged secret, on the copies made above.
	eachSecret(reflect.ValueOf(&r).Elem(), hide)
	return r
}

// eachSecret calls f with every string of v tagged secret:"true" (a
// string field, or each element of a []string field), walking into
// nested structs and slices of structs. v must be addressable. The tag is
// the one place a secret of the configuration is declared: Redacted,
// Secrets and the syntax errors' hiding of a line (secretKeys) follow it.
func eachSecret(v reflect.Value, f func(*string)) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf, fv := t.Field(i), v.Field(i)
			if !sf.IsExported() {
				continue
			}
			if sf.Tag.Get("secret") != "true" {
				eachSecret(fv, f)
				continue
			}
			switch fv.Kind() {
			case reflect.String:
				f(fv.Addr().Interface().(*string))
			case reflect.Slice:
				for j := range fv.Len() {
					if e := fv.Index(j); e.Kind() == reflect.String {
						f(e.Addr().Interface().(*string))
					}
				}
			}
		}
	case reflect.Slice:
		for j := range v.Len() {
			eachSecret(v.Index(j), f)
		}
	}
}

// secretKeys are the key names (the last part of a key path) of the
// fields tagged secret, and url (redis.url and a webhook's url may carry
// credentials): a syntax error on a line with one of them does not show
// the line.
var secretKeys = func() map[string]bool {
	keys := map[string]bool{"url": true}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		switch t.Kind() {
		case reflect.Struct:
			for i := range t.NumField() {
				sf := t.Field(i)
				if !sf.IsExported() {
					continue
				}
				if sf.Tag.Get("secret") == "true" {
					name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
					keys[name] = true
					continue
				}
				walk(sf.Type)
			}
		case reflect.Slice:
			walk(t.Elem())
		}
	}
	walk(reflect.TypeFor[Config]())
	return keys
}()

func hide(s *string) {
	if *s != "" {
		*s = RedactedValue
	}
}

// redactURLPassword hides the password of scheme://user:password@host/... and credential-like
// query parameters (go-redis accepts options there, e.g. sentinel_password).
func redactURLPassword(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return RedactedValue // unparsable: cannot tell where a password would be
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += u.User.Username()
		if _, ok := u.User.Password(); ok {
			out += ":" + RedactedValue
		}
		out += "@"
	}
	out += u.Host + u.EscapedPath()
	if u.RawQuery != "" {
		q := u.Query()
		keys := slices.Sorted(maps.Keys(q))
		var parts []string
		for _, k := range keys {
			hidden := containsAny(strings.ToLower(k), "pass", "secret", "token", "auth", "key")
			for _, val := range q[k] {
				if hidden {
					val = RedactedValue
				} else {
					val = url.QueryEscape(val)
				}
				parts = append(parts, url.QueryEscape(k)+"="+val)
			}
		}
		out += "?" + strings.Join(parts, "&")
	}
	return out
}

// redactURLPath keeps scheme and host of a URL and hides the rest.
func redactURLPath(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return RedactedValue
	}
	out := u.Scheme + "://" + u.Host
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		out += "/" + RedactedValue
	}
	return out
}

// Secrets lists the secret values of c (tokens, signing and webhook
// secrets, the passwords in redis.url), so that a log can hide them
// wherever they would show up, in an error a server echoed back say.
func (c Config) Secrets() []string {
	var s []string
	eachSecret(reflect.ValueOf(&c).Elem(), func(v *string) { s = append(s, *v) })
	if u, err := url.Parse(c.Redis.URL); err == nil {
		if p, ok := u.User.Password(); ok {
			s = append(s, p)
		}
		for k, vs := range u.Query() {
			if containsAny(strings.ToLower(k), "pass", "secret", "token", "auth", "key") {
				s = append(s, vs...)
			}
		}
	}
	return slices.DeleteFunc(s, func(v string) bool { return v == "" })
}

// tokenLike matches the start of a token of Slack (xoxb-, xoxp-, xapp-),
// GitHub (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_) or a Bearer header.
var tokenLike = regexp.MustCompile(`(?i)xox[a-z]-|xapp-|\bgh[pousr]_|github_pat_|bearer\s`)

// looksSecret reports whether a value written in the configuration may be
// or hold a secret: a token's shape, a URL (its user part or query may
// carry credentials), user:password@host, or a secret's name (mayHoldSecret).
func looksSecret(s string) bool {
	return tokenLike.MatchString(s) || strings.Contains(s, "@") || mayHoldSecret(s)
}

// quoteSafe quotes a value for a problem's message ("slack:X1"), hiding
// what may be a secret: a URL keeps its scheme and host (redactURLPath: its
// user, password, path and query may carry credentials); a token's shape
// or user:password@host is hidden as a whole ("[redacted]").
func quoteSafe(s string) string {
	switch {
	case tokenLike.MatchString(s):
		return strconv.Quote(RedactedValue)
	case strings.Contains(s, "://"):
		r := redactURLPath(s)
		if tokenLike.MatchString(r) || strings.Contains(r, "@") {
			r = RedactedValue
		}
		return strconv.Quote(r)
	case strings.Contains(s, "@"):
		return strconv.Quote(RedactedValue)
	}
	return strconv.Quote(s)
}
