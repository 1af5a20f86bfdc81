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
