package web

import (
	"maps"
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

// darkScheme is the stylesheet's block for a dark system theme.
var darkScheme = regexp.MustCompile(`@media \(prefers-color-scheme: dark\) \{\s*:root \{([^{}]*)\}\s*\}`)

// schemes reads the stylesheet's colour variables (--name: #rrggbb) for
// each colour scheme: "light" from the page's :root, "dark" those with the
// dark block's on top. A missing dark block fails the test.
func schemes(t *testing.T, css string) (string, map[string]map[string]string) {
	t.Helper()
	vars := func(s string) map[string]string {
		out := map[string]string{}
		for _, m := range regexp.MustCompile(`--([a-z_]+):\s*(#[0-9a-fA-F]{6})`).FindAllStringSubmatch(s, -1) {
			out[m[1]] = strings.ToLower(m[2])
		}
		return out
	}
	m := darkScheme.FindStringSubmatchIndex(css)
	if m == nil {
		t.Fatal("the stylesheet has no dark colour scheme (@media (prefers-color-scheme: dark) { :root { … } })")
	}
	rest := css[:m[0]] + css[m[1]:] // the page's rules, without the dark block
	light := vars(rest)
	dark := maps.Clone(light)
	maps.Copy(dark, vars(css[m[2]:m[3]]))
	return rest, map[string]map[string]string{"light": light, "dark": dark}
}

func stylesheet(t *testing.T) string {
	t.Helper()
	b, err := assets.ReadFile("assets/static/status.css")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every label in white on a colour of the page's stylesheet (each state's
// label, the "not ready" badge) reaches WCAG AA for small text, 4.5:1, in
// the light and the dark scheme.
func TestWhiteLabelsContrast(t *testing.T) {
	css, all := schemes(t, stylesheet(t))
	for _, name := range []string{"light", "dark"} {
		t.Run(name, func(t *testing.T) { whiteLabelsContrast(t, css, all[name]) })
	}
}

func whiteLabelsContrast(t *testing.T, css string, vars map[string]string) {
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

// TestTextContrastInBothSchemes: in the light scheme and in the dark one
// (a viewer whose system is dark gets a dark page), every text colour of
// the page reaches 4.5:1 on the ground it is written on, and the dark page
// is dark: light text on a dark ground.
func TestTextContrastInBothSchemes(t *testing.T) {
	_, all := schemes(t, stylesheet(t))
	pairs := [][2]string{ // text, ground
		{"fg", "bg"}, {"muted", "bg"}, {"link", "bg"}, {"ok_text", "bg"}, {"warn_text", "bg"},
		{"fg", "soft"}, {"muted", "soft"}, {"fg", "pill_in_progress"}, {"fg", "pill_scheduled"}, {"fg", "alert_bg"},
		{"ready_fg", "ready_bg"}, {"open_fg", "open_bg"},
	}
	for name, vars := range all {
		for _, p := range pairs {
			fg, bg := vars[p[0]], vars[p[1]]
			if fg == "" || bg == "" {
				t.Errorf("%s: --%s or --%s is not a #rrggbb colour of the stylesheet", name, p[0], p[1])
				continue
			}
			if c := contrast(t, fg, bg); c < 4.5 {
				t.Errorf("%s: --%s %s on --%s %s is %.2f:1, want at least 4.5:1", name, p[0], fg, p[1], bg, c)
			}
		}
	}
	if dark := all["dark"]; luminance(t, dark["bg"]) >= luminance(t, dark["fg"]) || luminance(t, dark["bg"]) > 0.05 {
		t.Errorf("the dark scheme is not dark: text %s on %s", dark["fg"], dark["bg"])
	}
}

// TestFreezeStripesFollowTheScheme: a freeze's band is striped in colours
// of the scheme: on a dark page its ground stripe is dark too (it kept the
// light page's pale blue), and in each scheme its two stripes tell apart.
func TestFreezeStripesFollowTheScheme(t *testing.T) {
	css, all := schemes(t, stylesheet(t))
	if !strings.Contains(css, "var(--freeze_stripe) 0 3px, var(--freeze_ground) 3px 6px") {
		t.Fatal("the freeze band is not striped in the scheme's colours")
	}
	for name, vars := range all {
		stripe, ground := vars["freeze_stripe"], vars["freeze_ground"]
		if stripe == "" || ground == "" {
			t.Fatalf("%s: --freeze_stripe or --freeze_ground is not a #rrggbb colour", name)
		}
		if c := contrast(t, stripe, ground); c < 2 {
			t.Errorf("%s: the freeze stripes %s and %s are %.2f:1 apart, want at least 2:1", name, stripe, ground, c)
		}
	}
	if l := luminance(t, all["dark"]["freeze_ground"]); l > 0.1 {
		t.Errorf("dark: the freeze band's ground %s is pale (luminance %.2f)", all["dark"]["freeze_ground"], l)
	}
}
