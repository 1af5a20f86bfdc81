package config

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// keyLine is where a key path is written in the file.
type keyLine struct {
	line int  // from 1
	kv   bool // a "key = value" line, not a table header
}

// keyRe matches the key of a "key = value" line: bare or quoted parts joined by dots.
var keyRe = regexp.MustCompile(`^\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')(\s*\.\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*\s*$`)

// keyLines finds the line of each key path the file writes, as Problems
// name them ("server.listen", "people[1].timezone", "people[1]" for the
// header): a scan of the lines that follows the table headers, as tableAt
// does. The parser does not tell where a key is (BurntSushi/toml keeps the
// positions to itself). A key's first line wins; the lines inside a
// multi-line string are skipped.
func keyLines(data []byte) map[string]keyLine {
	out := map[string]keyLine{}
	record := func(path string, l keyLine) {
		if _, ok := out[path]; !ok {
			out[path] = l
		}
	}
	var (
		table string
		count = map[string]int{}
		inStr string // the delimiter of the multi-line string being read
	)
	text := strings.TrimPrefix(string(data), "\ufeff") // a BOM is not part of the first key
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if inStr != "" {
			if strings.Count(line, inStr)%2 == 1 {
				inStr = ""
			}
			continue
		}
		h := strings.TrimSpace(stripComment(line))
		switch {
		case strings.HasPrefix(h, "[[") && strings.HasSuffix(h, "]]"):
			keys := splitKey(h[2 : len(h)-2])
			name := strings.Join(keys, ".")
			table = joinKeys("", keys) + "[" + strconv.Itoa(count[name]) + "]"
			count[name]++
			record(table, keyLine{line: i + 1})
		case strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]"):
			table = joinKeys("", splitKey(h[1:len(h)-1]))
			record(table, keyLine{line: i + 1})
		default:
			k, v, ok := strings.Cut(h, "=")
			if !ok || !keyRe.MatchString(k) {
				continue
			}
			record(joinKeys(table, splitKey(k)), keyLine{line: i + 1, kv: true})
			// A multi-line string starts the value (a one-line string
			// holding ''' or """ opens none).
			v = strings.TrimSpace(v)
			for _, delim := range []string{`"""`, "'''"} {
				if strings.HasPrefix(v, delim) && strings.Count(v, delim)%2 == 1 {
					inStr = delim
					break
				}
			}
		}
	}
	return out
}

// lineOf is the file's line of the key a problem is about, 0 when the file
// does not write it: a value from the environment, a missing key, a problem
// of several keys ("services: dependency cycle ..."). A list's entry
// ("reminders.before[1]") is on its list's line; a key inside an inline
// table on the line of the key that holds the table.
func (c Config) lineOf(p Problem) int {
	if c.keyLines == nil || strings.HasPrefix(p.Path, "env ") {
		return 0
	}
	if l, ok := c.keyLines[p.Path]; ok {
		return l.line
	}
	for q := parentPath(p.Path); q != ""; q = parentPath(q) {
		if l, ok := c.keyLines[q]; ok {
			if l.kv {
				return l.line
			}
			return 0 // a table's header: the key is not written
		}
	}
	return 0
}

// parentPath drops the last key or index of a path: "people[1].timezone"
// -> "people[1]" -> "people"; "" at the top.
func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return ""
}

// InFileOrder sorts problems as the file's lines run, so they read top to
// bottom against it; the problems without a line (see lineOf) come after,
// in the order given. ps is sorted in place and returned.
func (c Config) InFileOrder(ps []Problem) []Problem {
	line := func(p Problem) int {
		if l := c.lineOf(p); l > 0 {
			return l
		}
		return int(^uint(0) >> 1)
	}
	sort.SliceStable(ps, func(i, j int) bool { return line(ps[i]) < line(ps[j]) })
	return ps
}
