package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/upgradebot/upgradebot/commands"
)

// EnvPrefix starts every environment override, e.g. UPGRADEBOT_SLACK_BOT_TOKEN.
const EnvPrefix = "UPGRADEBOT"

var durationType = reflect.TypeOf(time.Duration(0))

// Load reads the TOML file at path over Default() and applies the environment overrides in environ
// (os.Environ() form). Unknown keys, wrongly typed values and bad environment values are returned as
// Problems; the error is only for an unreadable file or invalid TOML syntax (a *SyntaxError, whose text
// starts "FILE:LINE: "); either names the file, once. Load does not call Validate.
func Load(path string, environ []string) (Config, []Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Default(), nil, &fileError{path: path, err: err}
	}
	cfg, problems, err := load(path, data, environ)
	if se := (*SyntaxError)(nil); errors.As(err, &se) {
		return cfg, nil, err // it names the file
	}
	if err != nil {
		return cfg, nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, problems, nil
}

// fileError is a configuration file that cannot be read. It names the file
// once: the *fs.PathError it wraps names it too ("open FILE: ...").
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string {
	if errors.Is(e.err, fs.ErrNotExist) {
		return "configuration file " + e.path + " does not exist"
	}
	cause := e.err
	if pe := (*fs.PathError)(nil); errors.As(e.err, &pe) {
		cause = pe.Err
	}
	return "configuration file " + e.path + " cannot be read: " + cause.Error()
}

func (e *fileError) Unwrap() error { return e.err }

// LoadBytes is Load for a configuration held in memory, e.g. the console's built-in demo.
func LoadBytes(data []byte, environ []string) (Config, []Problem, error) {
	cfg, problems, err := load("", data, environ)
	if err != nil {
		return cfg, nil, fmt.Errorf("config: %w", err)
	}
	return cfg, problems, nil
}

func load(file string, data []byte, environ []string) (Config, []Problem, error) {
	var raw map[string]any
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return Default(), nil, syntaxErr(file, data, err)
	}
	lines := keyLines(data)
	d := &decoder{rank: map[string]int{}, set: map[string]bool{}, fromEnv: map[string]string{}, bothSet: map[string]string{}, lines: lines}
	for i, k := range md.Keys() {
		if _, ok := d.rank[k.String()]; !ok {
			d.rank[k.String()] = i
		}
	}
	cfg := Default()
	d.table("", nil, raw, reflect.ValueOf(&cfg).Elem())
	d.env(environ, reflect.ValueOf(&cfg).Elem())
	if len(d.fromEnv) > 0 {
		cfg.fromEnv = d.fromEnv
	}
	if len(d.bothSet) > 0 {
		cfg.secretInBoth = d.bothSet
	}
	if len(lines) > 0 {
		cfg.keyLines = lines
	}

	// The default url would otherwise clash with a cluster configured in the file or environment;
	// so would the file's url with a cluster the environment configures (the environment wins).
	_, clusterEnv := d.fromEnv["redis.cluster_addrs"]
	_, urlEnv := d.fromEnv["redis.url"]
	if len(cfg.Redis.ClusterAddrs) > 0 && (!d.set["redis.url"] || clusterEnv && !urlEnv) {
		cfg.Redis.URL = ""
	}
	// slack-go and discordgo join paths onto the base URL, so it must end with a slash.
	for _, u := range []*string{&cfg.Slack.APIURL, &cfg.Discord.APIURL, &cfg.GitHub.APIURL} {
		if *u != "" && !strings.HasSuffix(*u, "/") {
			*u += "/"
		}
	}
	return cfg, d.problems, nil
}

// isSecretKey reports whether k names a secret (secretKeys).
func isSecretKey(k string) bool { return secretKeys[k] }

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// decoder copies a parsed TOML tree onto a Config, collecting Problems instead of stopping at the first.
type decoder struct {
	rank     map[string]int     // unindexed key ("services.name") -> position of its first appearance
	set      map[string]bool    // unindexed keys given by the file or the environment
	fromEnv  map[string]string  // key paths (indexed) set by the environment -> variable
	bothSet  map[string]string  // of those, the secrets the file gives too -> variable
	lines    map[string]keyLine // where the file writes each key (keyLines)
	problems []Problem
}

func (d *decoder) add(path, format string, args ...any) {
	d.problems = append(d.problems, problemf(path, format, args...))
}

// fieldsOf maps TOML tag names to field indexes.
func fieldsOf(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			m[tag] = i
		}
	}
	return m
}

func joinPath(path, key string) string {
	k := toml.Key{key}.String()
	if path == "" {
		return k
	}
	return path + "." + k
}

func (d *decoder) table(path string, keys []string, m map[string]any, rv reflect.Value) {
	fields := fieldsOf(rv.Type())
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	rankOf := func(k string) int {
		r, ok := d.rank[toml.Key(append(keys[:len(keys):len(keys)], k)).String()]
		if !ok {
			return int(^uint(0) >> 1)
		}
		return r
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rankOf(names[i]), rankOf(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	for _, k := range names {
		sub := append(keys[:len(keys):len(keys)], k)
		p := joinPath(path, k)
		idx, ok := fields[k]
		if !ok {
			msg := unknownKey(path, k, fields, d.lines[p], m[k])
			if _, set := m["listen"]; set && path == "server" && listenKeys[k] {
				// [server] listen = ":80" then port = 8080: listen says it all.
				msg = "unknown key: the listen address is server.listen, one \"host:port\" string, set in this table already; delete " + k + " and write the whole address in listen"
			}
			d.add(p, "%s", msg)
			if _, written := d.lines[p]; !written {
				// An unknown array of tables ([[service]]) is written as its
				// entries' headers: its problem is at the first.
				if _, ok := d.lines[p+"[0]"]; ok {
					d.problems[len(d.problems)-1].entry = 1
				}
			}
			continue
		}
		d.set[toml.Key(sub).String()] = true
		d.value(p, sub, m[k], rv.Field(idx))
	}
}

func (d *decoder) value(path string, keys []string, v any, rv reflect.Value) {
	t := rv.Type()
	switch {
	case t == durationType:
		s, ok := v.(string)
		if !ok {
			d.add(path, `must be a duration string like "24h" or "3d", not %s`, tomlType(v))
			return
		}
		dur, err := ParseDuration(s)
		if err != nil {
			d.add(path, `%v (use Go durations plus days and weeks: "90m", "24h", "3d", "1w")`, err)
			return
		}
		rv.SetInt(int64(dur))
	case t.Kind() == reflect.String:
		s, ok := v.(string)
		if tv, isTime := v.(time.Time); isTime && instantKeys[toml.Key(keys).String()] && hasOffset(tv) {
			// from = 2026-12-24T00:00:00Z, a TOML offset date-time: the
			// instant the quoted form names.
			s, ok = tv.Format(time.RFC3339Nano), true
		}
		if !ok {
			d.add(path, "must be a string, not %s%s", tomlType(v), quoteTimeHint(d.written(path, keys), v))
			return
		}
		rv.SetString(s)
	case t.Kind() == reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.add(path, "must be true or false, not %s%s", tomlType(v), boolHint(d.written(path, keys), v))
			return
		}
		rv.SetBool(b)
	case t.Kind() == reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			hint := ""
			if _, written := d.lines[path]; !written {
				// [[slack]]: written as its entries' headers, the problem
				// is at the first.
				if _, ok := d.lines[path+"[0]"]; ok {
					hint = "; write [" + toml.Key(keys).String() + "] (one bracket)"
				}
			}
			d.add(path, "must be a table, not %s%s", tomlType(v), hint)
			if hint != "" {
				d.problems[len(d.problems)-1].entry = 1
			}
			return
		}
		d.table(path, keys, m, rv)
	case t.Kind() == reflect.Slice:
		var elems []any
		switch l := v.(type) {
		case []any:
			elems = l
		case []map[string]any:
			for _, e := range l {
				elems = append(elems, e)
			}
		default:
			if t.Elem().Kind() == reflect.Struct {
				// [services] for [[services]], or services = "a"
				d.add(path, "must be an array of tables, not %s; write [[%s]] (two brackets) above each entry", tomlType(v), toml.Key(keys))
				return
			}
			hint := listHint(d.written(path, keys), lastKey(keys), v)
			if hint == "" {
				hint = listExample(d.written(path, keys), toml.Key(keys).String(), v)
			}
			d.add(path, "must be an array, not %s%s", tomlType(v), hint)
			return
		}
		out := reflect.MakeSlice(t, len(elems), len(elems))
		for i, e := range elems {
			d.value(fmt.Sprintf("%s[%d]", path, i), keys, e, out.Index(i))
		}
		rv.Set(out)
	default:
		panic("config: unsupported field type " + t.String())
	}
}

// lastKey is the last of keys, as written in TOML (quoted if need be).
func lastKey(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return toml.Key{keys[len(keys)-1]}.String()
}

// written is the key of path (whose parts are keys) as the file writes it
// on its line: "enabled" below a [slack] header or in slack = { … },
// "slack.enabled" as a dotted key.
func (d *decoder) written(path string, keys []string) string {
	l, ok := d.lines[path]
	n := 1
	for cur := path; ok && n < len(keys); n++ {
		parent, cut := strings.CutSuffix(cur, "."+toml.Key{keys[len(keys)-n]}.String())
		pl, known := d.lines[parent]
		// The parts of a dotted key are on its line and no "key = …"
		// (which an inline table holding the key is).
		if !cut || !known || pl.line != l.line || pl.kv {
			break
		}
		cur = parent
	}
	return toml.Key(keys[len(keys)-n:]).String()
}

// freeTextLists are the lists whose entries may hold spaces (a readiness
// criterion, a window "tue 02:00-05:00 Europe/Berlin", a region); those of
// the other lists (names, ids, addresses, durations) are single words.
var freeTextLists = map[string]bool{"readiness": true, "windows": true, "regions": true}

// listHint says how to write a string given for a list of strings as the
// list (`; write owners = ["alice", "bob"]` for "alice, bob" or "alice bob";
// entries of a list of free text are separated by commas only), without
// showing a value that may be a secret (looksSecret, or any of a secret
// key's); "" for a value that is no string. key is the key as written, name
// its last part.
func listHint(key, name string, v any) string {
	s, ok := v.(string)
	if !ok {
		return ""
	}
	sep := func(r rune) bool { return r == ',' }
	if !freeTextLists[name] {
		sep = func(r rune) bool { return r == ',' || r == ';' || isSpace(r) }
	}
	var parts []string
	for _, p := range strings.FieldsFunc(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			if isSecretKey(name) || looksSecret(p) {
				p = "…"
			}
			parts = append(parts, strconv.Quote(p))
		}
	}
	return "; write " + key + " = [" + strings.Join(parts, ", ") + "]"
}

// instantKeys are the keys (paths without indexes) holding an instant,
// RFC 3339 with an offset: written quoted or as a TOML offset date-time.
var instantKeys = map[string]bool{"freezes.from": true, "freezes.to": true}

// hasOffset reports whether a TOML date or time the parser gave names an
// instant: an offset date-time, not a local date-time, date or time (whose
// location the parser names "datetime-local", "date-local", "time-local").
func hasOffset(t time.Time) bool {
	switch t.Location().String() {
	case "datetime-local", "date-local", "time-local":
		return false
	}
	return true
}

// quoteTimeHint says how to write a TOML date or time given for a string
// (from = 2026-12-20T00:00:00Z): quoted; "" for any other value. A
// freeze's from and to need an offset: one without is given one as an
// example (Z for UTC, or +01:00).
func quoteTimeHint(key string, v any) string {
	t, ok := v.(time.Time)
	if !ok {
		return ""
	}
	name := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		name = key[i+1:]
	}
	instant := name == "from" || name == "to"
	// The parser gives a date or time without an offset the zone of these
	// names (the time on its own, or its date, is all it says).
	switch t.Location().String() {
	case "datetime-local", "date-local":
		if instant {
			clock := t.Format("2006-01-02T15:04:05")
			return "; write " + key + ` = "` + clock + `Z" (quoted, with an offset from UTC: Z, or e.g. "` + clock + `+01:00")`
		}
		return "; write it in quotes"
	case "time-local":
		if instant {
			return "; write " + key + ` = "2026-12-20T00:00:00Z" (a quoted date and time with an offset from UTC: Z, or e.g. +01:00)`
		}
		return "; write it in quotes"
	}
	return "; write " + key + " = " + strconv.Quote(t.Format(time.RFC3339Nano))
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	default:
		return "a date/time"
	}
}

// homeOf is where key k is known with a type value v fits (fits): at the
// top level (top, as a scalar or list), in these [section] tables and in
// these [[array]] tables' entries, in the file's order. secret is whether k
// names a secret in any of them, whatever the value.
func homeOf(k string, v any) (top bool, sections, arrays []string, secret bool) {
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		switch {
		case tag == "" || tag == "-":
		case f.Type.Kind() == reflect.Struct:
			if j, ok := fieldsOf(f.Type)[k]; ok {
				if fits(f.Type.Field(j).Type, v) {
					sections = append(sections, "["+tag+"]")
				}
				secret = secret || f.Type.Field(j).Tag.Get("secret") == "true"
			}
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			if j, ok := fieldsOf(f.Type.Elem())[k]; ok {
				if fits(f.Type.Elem().Field(j).Type, v) {
					arrays = append(arrays, "[["+tag+"]]")
				}
				secret = secret || f.Type.Elem().Field(j).Tag.Get("secret") == "true"
			}
		case tag == k:
			top = fits(f.Type, v)
		}
	}
	return top, sections, arrays, secret
}

// fits reports whether a value v is of the shape of a key of type t, so
// that moving it there is the fix: a table for a table, an array of tables
// for an array of tables ([[freezes]] services is a list of names, no
// services = [{ … }]), an array of values for a list, and a value (a string
// for a list too: the move's own problem then says how to write the list)
// for a value.
func fits(t reflect.Type, v any) bool {
	if t == nil {
		return false
	}
	table := t.Kind() == reflect.Struct
	tables := t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct
	list := t.Kind() == reflect.Slice && !tables
	switch v := v.(type) {
	case map[string]any:
		return table
	case []map[string]any:
		return tables
	case []any:
		if len(v) == 0 {
			return list || tables
		}
		if _, ok := v[0].(map[string]any); ok {
			return tables
		}
		return list
	case string:
		return !table && !tables
	}
	return !table && !tables && !list
}

// unknownKey words the problem of key k, unknown in the table at path with
// these fields. A near miss of one of its own keys comes first ("did you
// mean"), then one of its keys that k names a part of (token: bot_token),
// and only then the classic TOML slip: a key written below a table header
// belongs to that table, wherever it was meant to go (a top-level key
// appended after the last [[services]], listen under [slack], owners of a
// service after a [[freezes]] header). A key whose table is named on its
// own line (named: in an inline table, slack = { listen = ":8080" }, or by a
// dotted key, slack.listen = ":8080") is not misplaced by a header: it is
// said to belong elsewhere, without the advice about headers. A platform's
// key under another platform's header is not sent there: [slack],
// [discord] and [github] share key names (token, enabled, api_url), and
// moving one would hand one platform's secret to another. A key known in no
// section nor at the top level that is a part of a top-level key (timezone:
// default_timezone) is taken for that key, written under a header ([server]
// timezone), before the entries of arrays of tables that have it
// ([[people]] timezone). A top-level table's name known nowhere else
// ([server] then slack.enabled = false) says how that table is written.
func unknownKey(path, k string, fields map[string]int, l keyLine, v any) string {
	named := l.named
	if s := suggest(k, fields); s != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", s)
	}
	top, sections, arrays, secret := homeOf(k, v)
	// A key that may hold a credential (url) is not sent to another table
	// either: redis.url and a webhook's url are not a service's.
	secret = secret || isSecretKey(k)
	// A key known elsewhere is not read as a longer one's part here
	// (bot_token under [github] is no token of GitHub's).
	if names := partOf(k, fields, !top && len(sections) == 0 && len(arrays) == 0); len(names) > 0 {
		return "unknown key (did you mean " + strings.Join(names, " or ") + "?)"
	}
	if listen := listenHint(path, k, v); listen != "" {
		return listen
	}
	if path == "" {
		return topLevelUnknown(k, sections, arrays)
	}
	if !top && len(sections) == 0 {
		// Known in no section: maybe a part of a top-level key, written in
		// a table ([server] timezone for default_timezone).
		if names := partOf(k, topLevelKeys(), false); len(names) > 0 {
			for i := range names {
				names[i], _ = strconv.Unquote(names[i])
			}
			return "unknown key (did you mean the top-level " + strings.Join(names, " or ") + "? it goes above the first [table] header)"
		}
	}
	if platformSection[path] {
		sections = slices.DeleteFunc(sections, func(s string) bool { return platformSection[strings.Trim(s, "[]")] })
	}
	homes := append(sections, arrays...)
	if secret {
		// A secret is never sent to another table by a hint: a webhook's
		// signing secret is not GitHub's.
		homes = nil
	}
	if entry := arrayEntry(path); entry != "" && !named && !top && len(sections) == 0 && len(homes) > 0 {
		// owners = ["bob"] after a [[freezes]] header is most likely the
		// freeze's own (mis)key, not a service's written in the wrong
		// entry: moving it to [[services]] would put the data in the wrong
		// table, so say what this entry takes instead.
		return fmt.Sprintf("unknown key: [[%s]] has no %s key; %s take: %s", entry, k, entry, keysOf(fields))
	}
	var is, move string // what k is, and where to move it
	switch {
	case top && len(homes) > 0:
		is = k + " is a top-level key or belongs under " + orList(homes)
		move = "move it above the first [table] header or under " + orList(homes)
		if named {
			is = k + " is a top-level key or a key of " + orList(homes)
		}
	case top:
		is = k + " is a top-level key"
		move = "move it above the first [table] header"
	case len(homes) > 0:
		is = k + " belongs under " + orList(homes)
		move = "move it there"
		if named {
			is = k + " is a key of " + orList(homes)
		}
	case topTable(k) != "" && !secret && l.kv && !named && fits(topField(k), v) && !isEmptyList(v):
		// [server] then services = [{ name = "a" }]: a top-level key
		// written under a header, as a whole
		is, move = k+" is a top-level table", "move it above the first [table] header"
		if strings.HasPrefix(topTable(k), "[[") {
			is = k + " is a top-level array of tables"
		}
	case topTable(k) != "" && !secret:
		// [server] then slack.enabled = true: the table is the top level's
		is, move = k+" is a top-level table", "write its keys under a "+topTable(k)+" header"
		if strings.HasPrefix(topTable(k), "[[") {
			is, move = k+" is a top-level array of tables", "write each entry under a "+topTable(k)+" header"
		}
	default:
		return "unknown key"
	}
	if named && top && len(homes) == 0 {
		return "unknown key here: " + is + ", not a key of this table"
	}
	if named {
		return "unknown key here: " + is + ", not of this table"
	}
	return "unknown key here: " + is + "; " + move + " (a key belongs to the table whose header is above it)"
}

// arrayEntry is the name of the array of tables whose entry path is
// ("freezes" for freezes[0]), "" when path is no such entry.
func arrayEntry(path string) string {
	last := path[strings.LastIndexByte(path, '.')+1:]
	name, _, ok := strings.Cut(last, "[")
	if !ok || !strings.HasSuffix(last, "]") {
		return ""
	}
	return name
}

// keysOf lists a table's keys in the order its fields declare them.
func keysOf(fields map[string]int) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return fields[a] - fields[b] })
	return strings.Join(names, ", ")
}

// isEmptyList reports whether v is [] (people = [] says no entry to move).
func isEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) == 0
}

// topField is the type of the top level's key k; nil if there is none.
func topField(k string) reflect.Type {
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("toml") == k {
			return t.Field(i).Type
		}
	}
	return reflect.TypeOf(nil)
}

// topTable is how a table of the top level named k is written: "[slack]",
// "[[services]]"; "" if there is none.
func topTable(k string) string {
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("toml") != k {
			continue
		}
		switch {
		case f.Type.Kind() == reflect.Struct:
			return "[" + k + "]"
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			return "[[" + k + "]]"
		}
	}
	return ""
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// topLevelKeys are the keys of the top level that are no tables: scalars
// and lists (default_timezone, admins, max_window, …).
func topLevelKeys() map[string]int {
	t := reflect.TypeOf(Config{})
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if tag == "" || tag == "-" || f.Type.Kind() == reflect.Struct ||
			f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct {
			continue
		}
		m[tag] = i
	}
	return m
}

// platformSection are the sections of the chat platforms and GitHub, whose
// keys share names.
var platformSection = map[string]bool{"slack": true, "discord": true, "github": true}

// partOf returns the table's keys, quoted and sorted, that k is a part of,
// between underscores (token: bot_token and app_token), and when longer too
// those that are a part of k.
func partOf(k string, fields map[string]int, longer bool) []string {
	var names []string
	for name := range fields {
		if strings.HasSuffix(name, "_"+k) || strings.HasPrefix(name, k+"_") ||
			longer && (strings.HasSuffix(k, "_"+name) || strings.HasPrefix(k, name+"_")) {
			names = append(names, strconv.Quote(name))
		}
	}
	slices.Sort(names)
	return names
}

// suggest returns the known key closest to an unknown one, if it is a plausible typo.
func suggest(k string, fields map[string]int) string {
	best, bestDist := "", 3
	for name := range fields {
		dist := commands.Distance(k, name)
		if dist < bestDist || (dist == bestDist && best != "" && name < best) {
			best, bestDist = name, dist
		}
	}
	return best
}

// env applies UPGRADEBOT_<SECTION>_<KEY> overrides. An empty value counts as unset.
func (d *decoder) env(environ []string, rv reflect.Value) {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix+"_") {
			continue
		}
		if _, dup := vars[k]; !dup { // first wins, like os.Getenv
			vars[k] = v
		}
	}
	if len(vars) == 0 {
		return
	}
	known := map[string]bool{}
	d.envFields(EnvPrefix, nil, "", vars, rv, known)
	// A mistyped variable must not pass silently, least of all a secret's.
	var unknown []string
	for k := range vars {
		if !known[k] && !envNotConfig(k) && strings.TrimSpace(vars[k]) != "" {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		switch near := suggestEnv(k, known, rv); {
		case indexedEnv.MatchString(k) && entryKnown(k, known):
			d.add("env "+k, "unknown variable: that entry has no such key; see config.example.toml for the keys of its kind")
		case indexedEnv.MatchString(k):
			d.add("env "+k, "no such entry: indexed overrides only change [[people]], [[services]], [[webhooks]] or [[freezes]] entries the file defines, counting from 0")
		case near != "":
			d.add("env "+k, "unknown variable; did you mean %s?", near)
		default:
			d.add("env "+k, "unknown variable; see config.example.toml for the keys (UPGRADEBOT_<SECTION>_<KEY>)")
		}
	}
}

// entryKnown reports whether the array-of-tables entry an indexed variable
// names (UPGRADEBOT_SERVICES_0_COLOUR: services[0]) is one the file defines.
func entryKnown(k string, known map[string]bool) bool {
	m := entryPrefix.FindString(k)
	for n := range known {
		if m != "" && strings.HasPrefix(n, m) {
			return true
		}
	}
	return false
}

var entryPrefix = regexp.MustCompile(`^` + EnvPrefix + `_(PEOPLE|SERVICES|WEBHOOKS|FREEZES)_[0-9]+_`)

// indexedEnv matches an override of an array-of-tables entry, e.g. UPGRADEBOT_SERVICES_5_NAME.
var indexedEnv = regexp.MustCompile(`^` + EnvPrefix + `_(PEOPLE|SERVICES|WEBHOOKS|FREEZES)_[0-9]+_[A-Z_]+$`)

// envNotConfig reports variables with the prefix that are not configuration:
// the test suites' and the console's own.
func envNotConfig(k string) bool {
	return strings.HasPrefix(k, EnvPrefix+"_TEST_") || k == EnvPrefix+"_CONSOLE_NOW"
}

// suggestEnv returns the configuration variable closest to k, if it is a plausible typo.
func suggestEnv(k string, known map[string]bool, rv reflect.Value) string {
	all := map[string]bool{}
	for n := range known {
		all[n] = true
	}
	d := &decoder{set: map[string]bool{}}
	d.envFields(EnvPrefix, nil, "", nil, rv, all)
	names := map[string]int{}
	for n := range all {
		if !indexedEnv.MatchString(n) {
			names[n] = 0
		}
	}
	return suggest(k, names)
}

// envFields applies the variables of vars that name fields of rv and adds
// every variable name it considers to known.
func (d *decoder) envFields(prefix string, keys []string, path string, vars map[string]string, rv reflect.Value, known map[string]bool) {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		sub := append(keys[:len(keys):len(keys)], tag)
		at := tag
		if path != "" {
			at = path + "." + tag
		}
		f := rv.Field(i)
		switch {
		case f.Kind() == reflect.Struct:
			d.envFields(name, sub, at, vars, f, known)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			// Array-of-table entries from the file can be overridden by index: UPGRADEBOT_WEBHOOKS_0_SECRET.
			for j := 0; j < f.Len(); j++ {
				d.envFields(name+"_"+strconv.Itoa(j), sub, at+"["+strconv.Itoa(j)+"]", vars, f.Index(j), known)
			}
		default:
			known[name] = true
			val, ok := vars[name]
			if !ok || strings.TrimSpace(val) == "" {
				continue
			}
			// A secret (or a password in redis.url) the file gives too:
			// the environment wins, and SecretInFileWarnings says so.
			inFile := t.Field(i).Tag.Get("secret") == "true" && !isZeroSecret(f) ||
				at == "redis.url" && d.set["redis.url"] && urlHasPassword(f.String())
			if d.envValue(name, at, strings.TrimSpace(val), f) {
				if inFile && d.bothSet != nil {
					d.bothSet[at] = name
				}
				d.set[toml.Key(sub).String()] = true
				if d.fromEnv != nil {
					d.fromEnv[at] = name
				}
			}
		}
	}
}

// envValue sets rv from variable name's value val; at is the key path
// it sets. Its problems name both, as Validate's do for a value from the
// environment (Config.blameEnv): "env UPGRADEBOT_MAX_WINDOW (max_window)",
// "env UPGRADEBOT_REMINDERS_BEFORE (reminders.before[1])" for a list's entry.
func (d *decoder) envValue(name, at, val string, rv reflect.Value) bool {
	path := "env " + name + " (" + at + ")"
	t := rv.Type()
	switch {
	case t == durationType:
		dur, err := ParseDuration(val)
		if err != nil {
			d.add(path, `%v (use Go durations plus days and weeks: "90m", "24h", "3d", "1w")`, err)
			return false
		}
		rv.SetInt(int64(dur))
	case t.Kind() == reflect.String:
		rv.SetString(val)
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(val)
		if err != nil {
			d.add(path, "must be true or false")
			return false
		}
		rv.SetBool(b)
	case t.Kind() == reflect.Slice:
		var parts []string
		for _, p := range strings.Split(val, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		out := reflect.MakeSlice(t, len(parts), len(parts))
		for i, p := range parts {
			if t.Elem() != durationType {
				out.Index(i).SetString(p)
				continue
			}
			dur, err := ParseDuration(p)
			if err != nil {
				d.add(fmt.Sprintf("env %s (%s[%d])", name, at, i), `%v (use Go durations plus days and weeks: "90m", "24h", "3d", "1w")`, err)
				return false
			}
			out.Index(i).SetInt(int64(dur))
		}
		rv.Set(out)
	default:
		panic("config: unsupported field type " + t.String())
	}
	return true
}
