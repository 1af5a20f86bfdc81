package hostport

import "testing"

func TestWithPort(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1":      "10.0.0.1:6379",
		"redis-1":       "redis-1:6379",
		"10.0.0.1:7000": "10.0.0.1:7000",
		"::1":           "[::1]:6379",
		"[::1]":         "[::1]:6379",
		"[::1]:7000":    "[::1]:7000",
	} {
		if got := WithPort(in, "6379"); got != want {
			t.Errorf("WithPort(%q) = %q, want %q", in, got, want)
		}
	}
}

// Review: "::1:7000" passed the check and was dialled as [::1:7000]:6379.
// An IPv6 address without brackets is refused with what to write; a
// bracketed one, with a zone or not, and any other address are not.
func TestUnbracketed(t *testing.T) {
	for in, want := range map[string]string{
		"::1:7000":          `"::1:7000" is an IPv6 address without brackets: write "[::1]:7000" for port 7000, or "[::1:7000]" for ::1:7000 on port 6379`,
		"::1":               `"::1" is an IPv6 address without brackets: write "[::1]" (port 6379), or with its port, e.g. "[::1]:6379"`,
		"::1:70000":         `"::1:70000" is an IPv6 address without brackets: write "[::1]:70000" for port 70000`,
		"::1:65535":         `"::1:65535" is an IPv6 address without brackets: write "[::1]:65535" for port 65535`,
		"fe80::1%eth0:7000": `"fe80::1%eth0:7000" is an IPv6 address without brackets: write "[fe80::1%eth0]:7000" for port 7000`,
		"[::1]:7000":        "",
		"[fe80::1%eth0]":    "",
		"10.0.0.1:7000":     "",
		"redis-1":           "",
		"a:b:c":             "",
	} {
		if got := Unbracketed(in, "6379"); got != want {
			t.Errorf("Unbracketed(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]bool{"::1": true, "fe80::1%eth0": true, "fe80::1%eth0.5": true, "fe80::1%a b": false, "fe80::1%a]": false, "10.0.0.1": false, "host": false} {
		if IPv6(in) != want {
			t.Errorf("IPv6(%q) = %v, want %v", in, !want, want)
		}
	}
	if got := WithPort("[fe80::1%eth0]", "6379"); got != "[fe80::1%eth0]:6379" {
		t.Errorf("WithPort of a zone = %q", got)
	}
}
