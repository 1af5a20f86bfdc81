//go:build !unix

package slack

import (
	"net"
	"testing"
)

// closedPort returns 127.0.0.1:port where nothing listens (a port freed
// just now; on unix it stays bound, see closedport_unix_test.go).
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
