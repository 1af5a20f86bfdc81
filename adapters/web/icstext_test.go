package web

import "testing"

// Every line break a person may type, a lone CR included, becomes the
// escaped \n of RFC 5545: none can start a property of its own.
func TestICSTextEscapesEveryLineBreak(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb":                  `a\nb`,
		"a\nb":                    `a\nb`,
		"a\rURL:http://evil more": `a\nURL:http://evil more`,
		`back\slash; semi, comma`: `back\\slash\; semi\, comma`,
	} {
		if got := icsText(in); got != want {
			t.Errorf("icsText(%q) = %q, want %q", in, got, want)
		}
	}
}
