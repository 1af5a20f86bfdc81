package web

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// luminance is the relative luminance of a #rrggbb colour (WCAG 2).
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	if len(hex) != 7 || hex[0] != '#' {
		t.Fatalf("colour %q is not #rrggbb", hex)
	}
	var c [3]float64
	for i := range c {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		x := float64(v) / 255
		if x <= 0.04045 {
			c[i] = x / 12.92
		} else {
			c[i] = math.Pow((x+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

// contrast is the WCAG 2 contrast ratio of two colours.
func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// Every label in white on a colour of the page's stylesheet (each state's
// label, the "not ready" badge) reaches WCAG AA for small text, 4.5:1.
func TestWhiteLabelsContrast(t *testing.T) {
	b, err := assets.ReadFile("assets/static/status.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z_]+):\s*(#[0-9a-fA-F]{6})`).FindAllStringSubmatch(css, -1) {
		vars[m[1]] = strings.ToLower(m[2])
	}
	resolve := func(v string) string {
		v = strings.TrimSpace(v)
		if m := regexp.MustCompile(`^var\(--([a-z_]+)\)$`).FindStringSubmatch(v); m != nil {
			return vars[m[1]]
		}
		return strings.ToLower(v)
	}
	decl := func(body, prop string) (string, bool) {
		for d := range strings.SplitSeq(body, ";") {
			name, value, ok := strings.Cut(d, ":")
			if ok && strings.TrimSpace(name) == prop {
				return resolve(value), true
			}
		}
		return "", false
	}
	rules := regexp.MustCompile(`([^{}]+)\{([^{}]*)\}`).FindAllStringSubmatch(css, -1)
	white := map[string]bool{} // the classes whose text is white
	for _, r := range rules {
		if c, _ := decl(r[2], "color"); c == "#fff" || c == "#ffffff" {
			for sel := range strings.SplitSeq(r[1], ",") {
				white[strings.TrimSpace(sel)] = true
			}
		}
	}
	checked := map[string]bool{}
	for _, r := range rules {
		sel := strings.TrimSpace(r[1])
		bg, ok := decl(r[2], "background")
		if !ok {
			continue
		}
		base, _, _ := strings.Cut(strings.TrimPrefix(sel, "."), ".")
		if !white[sel] && !white["."+base] {
			continue
		}
		if bg == "" {
			t.Errorf("%s: background %q is not a colour the test can read", sel, r[2])
			continue
		}
		checked[sel] = true
		if c := contrast(t, "#ffffff", bg); c < 4.5 {
			t.Errorf("%s: white on %s is %.2f:1, want at least 4.5:1", sel, bg, c)
		}
	}
	for _, st := range allStates {
		if !checked[".state."+string(st)] {
			t.Errorf("no white label colour for the state %s was checked (%v)", st, checked)
		}
	}
	if !checked[".readiness.notready"] {
		t.Errorf("the not-ready badge was not checked (%v)", checked)
	}
}
