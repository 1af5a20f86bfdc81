//go:build !unix

// Package closedport gives tests an address where nothing listens.
package closedport

import (
	"net"
	"testing"
)

// Addr returns 127.0.0.1:port where nothing listens (a port freed just
// now; on unix it stays bound, see closedport_unix.go).
func Addr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
