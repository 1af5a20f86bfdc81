// Package hostport completes network addresses that may omit their port,
// as the configuration's check and the store read them alike.
package hostport

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// WithPort is addr as host:port: addr itself when it has a port, else
// addr on port ("10.0.0.1" -> "10.0.0.1:6379"; a bracketed IPv6 address
// keeps its brackets and zone: "[::1]" -> "[::1]:6379", "[fe80::1%eth0]"
// -> "[fe80::1%eth0]:6379"). An IPv6 address without brackets cannot say
// where a port begins ("::1:7000" is an address too): the configuration
// refuses it (Unbracketed); given one anyway, WithPort reads it whole, on
// port.
func WithPort(addr, port string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	if h, ok := strings.CutPrefix(addr, "["); ok {
		if h, ok = strings.CutSuffix(h, "]"); ok {
			addr = h
		}
	}
	return net.JoinHostPort(addr, port)
}

// Unbracketed refuses addr when it is an IPv6 address written without the
// brackets that set a port apart ("::1", "::1:7000", "fe80::1%eth0"),
// saying what to write: the address in brackets (on port, the default),
// and, when its last group may be a port, the rest in brackets with that
// port after them ("[::1]:7000"). It is "" for any other addr. The
// refusal quotes addr, which is an IP address and nothing secret.
func Unbracketed(addr, port string) string {
	if strings.HasPrefix(addr, "[") || strings.Count(addr, ":") < 2 {
		return ""
	}
	whole := IPv6(addr)
	if i := strings.LastIndex(addr, ":"); i > 0 && isDigits(addr[i+1:]) && IPv6(addr[:i]) {
		split := fmt.Sprintf("%q is an IPv6 address without brackets: write %q for port %s", addr, "["+addr[:i]+"]:"+addr[i+1:], addr[i+1:])
		if whole {
			split += fmt.Sprintf(", or %q for %s on port %s", "["+addr+"]", addr, port)
		}
		return split
	}
	if whole {
		return fmt.Sprintf("%q is an IPv6 address without brackets: write %q (port %s), or with its port, e.g. %q", addr, "["+addr+"]", port, "["+addr+"]:"+port)
	}
	return ""
}

// IPv6 reports whether h (without brackets) is an IPv6 address, with a
// zone or not (fe80::1%eth0); the zone, an interface's name or number,
// holds letters, digits, '.', '-' and '_' only.
func IPv6(h string) bool {
	a, err := netip.ParseAddr(h)
	if err != nil || !a.Is6() {
		return false
	}
	for _, c := range a.Zone() {
		if !(c == '.' || c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
