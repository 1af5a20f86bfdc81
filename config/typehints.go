package config

import (
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// boolHint says how to write a boolean given as another type (enabled =
// "yes", enabled = 1), naming the key as written: the boolean the value
// means when that is clear, else both. A string is echoed only when it is
// "true" or "false".
func boolHint(key string, v any) string {
	if s, ok := v.(string); ok && (s == "true" || s == "false") {
		return "; write " + key + " = " + s + ", without quotes"
	}
	var word string
	switch v := v.(type) {
	case string:
		word = strings.ToLower(strings.TrimSpace(v))
	case int64:
		word = strconv.FormatInt(v, 10)
	}
	switch word {
	case "yes", "y", "on", "1", "t", "true", "enable", "enabled":
		return "; write " + key + " = true (a TOML boolean: true or false, without quotes)"
	case "no", "n", "off", "0", "f", "false", "disable", "disabled":
		return "; write " + key + " = false (a TOML boolean: true or false, without quotes)"
	}
	return "; write " + key + " = true or " + key + " = false (without quotes)"
}

// listExamples are example values of the configuration's lists, by key
// path without indexes (as config.example.toml writes them).
var listExamples = map[string]string{
	"admins":              `["alice"]`,
	"readiness":           `["backups verified", "canary green"]`,
	"redis.cluster_addrs": `["10.0.0.1:6379", "10.0.0.2:6379"]`,
	"discord.guild_ids":   `["112233445566778899"]`,
	"reminders.before":    `["1w", "3d", "1h"]`,
	"api.tokens":          `["…"]`,
	"webhooks.events":     `["upgrade.started", "upgrade.completed"]`,
	"people.ids":          `["slack:U012AB3CD", "discord:80351110224678912"]`,
	"services.owners":     `["alice", "slack:S0PAYTEAM"]`,
	"services.channels":   `["slack:C0123456", "discord:112233445566778899"]`,
	"services.depends_on": `["ledger"]`,
	"services.windows":    `["tue 02:00-05:00 Europe/Berlin"]`,
	"services.readiness":  `["backups verified", "canary green"]`,
	"freezes.services":    `["*"]`,
	"freezes.regions":     `["eu-west"]`,
}

// idLists are the lists of platform ids, which a table of platforms
// (channels = { slack = "C0123456" }) can be rewritten as.
var idLists = map[string]bool{"admins": true, "people.ids": true, "services.owners": true, "services.channels": true}

// listExample says how to write a list given as a value that is no string
// (listHint's): channels = { slack = "C1", discord = "2" } as the ids it
// means, ["slack:C1", "discord:2"]; anything else as the example of the
// key (at, its path without indexes), key being the key as written. No
// value that may be a secret is echoed.
func listExample(key, at string, v any) string {
	what, not := "a list in square brackets", ""
	if m, ok := v.(map[string]any); ok {
		not = ", not a { … } table"
		if ids := platformIDs(m); ids != "" && idLists[at] {
			return "; write " + key + " = " + ids + " (a list of platform ids in square brackets" + not + ")"
		}
	}
	return "; write it as " + what + not + ", e.g. " + key + " = " + listExampleOf(at)
}

// listExampleOf is the example value of the list at key path at, with or
// without indexes ("services[0].channels"); ["…"] for a list it lacks.
func listExampleOf(at string) string {
	if ex, ok := listExamples[entryIndex.ReplaceAllString(at, "")]; ok {
		return ex
	}
	return `["…"]`
}

// entryIndex is the index of an array of tables' entry in a key path.
var entryIndex = regexp.MustCompile(`\[[0-9]+\]`)

// platformIDs writes a table of platforms' ids ({ slack = "C1", discord =
// ["2", "3"] }) as the list of platform ids it means, in the platforms'
// order; "" when the table is anything else.
func platformIDs(m map[string]any) string {
	var ids []string
	seen := 0
	for _, p := range []string{"slack", "discord", "console"} {
		var vals []any
		switch v := m[p].(type) {
		case nil:
			continue
		case string:
			vals = []any{v}
		case []any:
			vals = v
		default:
			return ""
		}
		seen++
		for _, e := range vals {
			s, ok := e.(string)
			if !ok || s == "" {
				return ""
			}
			s = strings.TrimPrefix(s, p+":")
			if looksSecret(s) {
				s = "…"
			}
			ids = append(ids, strconv.Quote(p+":"+s))
		}
	}
	if len(ids) == 0 || seen < len(m) { // a key of no platform
		return ""
	}
	return "[" + strings.Join(ids, ", ") + "]"
}

// topLevelUnknown words the problem of key k, unknown at the top level,
// which is known in these [section] tables and [[array]] entries (homeOf):
// where it belongs (bot_token under [slack] or [discord]), and for a
// secret, its variables. No value is shown.
func topLevelUnknown(k string, sections, arrays []string) string {
	homes := append(slices.Clip(sections), arrays...)
	if len(homes) == 0 {
		return "unknown key"
	}
	msg := "unknown key at the top level: " + k + " belongs under " + orList(homes) +
		"; write it after the " + orList(homes) + " header (a key above the first [table] header is a top-level key)"
	if !isSecretKey(k) || k == "url" {
		return msg
	}
	var vars []string
	for _, s := range sections {
		vars = append(vars, EnvPrefix+"_"+strings.ToUpper(strings.Trim(s, "[]"))+"_"+strings.ToUpper(k))
	}
	for _, a := range arrays {
		vars = append(vars, EnvPrefix+"_"+strings.ToUpper(strings.Trim(a, "[]"))+"_<N>_"+strings.ToUpper(k))
	}
	return msg + "; it is a secret: better set " + orList(vars) + " in the environment instead"
}

// listenKeys are the names people give the listen address's parts.
var listenKeys = map[string]bool{
	"port": true, "host": true, "address": true, "addr": true, "bind": true,
	"http_port": true, "listen_port": true, "listen_address": true, "listen_addr": true, "bind_address": true,
}

// listenHint words the problem of a key that means the HTTP listen
// address ([server] port = 8080) at the top level or under [server]: the
// address is server.listen, "host:port", written with the value given
// where it is a port or host; "" for any other key.
func listenHint(path, k string, v any) string {
	if path != "" && path != "server" || !listenKeys[k] {
		return ""
	}
	host, port := "127.0.0.1", "8080"
	switch v := v.(type) {
	case int64:
		if v > 0 && v <= 65535 {
			port = strconv.FormatInt(v, 10)
		}
	case string:
		if looksSecret(v) {
			break // not shown
		}
		switch h, p, err := net.SplitHostPort(v); {
		case err == nil && isPort(p) && plainHost(h):
			host, port = h, p
		case isPort(v):
			port = v
		case plainHost(v) && v != "":
			host = v
		}
	}
	listen := quoteSafe(net.JoinHostPort(host, port))
	where := "write listen = " + listen
	if path == "" {
		where = "write listen = " + listen + " after the [server] header"
	}
	return "unknown key: the listen address is server.listen, one \"host:port\" string; " + where + ` (":` + port + `" listens on every interface)`
}

// plainHost reports whether s is a host name or IP address with nothing
// else (no user, scheme or path that might carry a secret).
func plainHost(s string) bool {
	if strings.Contains(s, ":") && net.ParseIP(s) == nil {
		return false
	}
	for _, c := range s {
		if !(c == '.' || c == '-' || c == ':' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
