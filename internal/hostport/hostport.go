// Package hostport completes network addresses that may omit their port,
// as the configuration's check and the store read them alike.
package hostport

import (
	"net"
	"strings"
)

// WithPort is addr as host:port: addr itself when it has a port, else
// addr on port ("10.0.0.1" -> "10.0.0.1:6379"; an IPv6 address, bracketed
// or not, gets its brackets: "::1" and "[::1]" -> "[::1]:6379").
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
