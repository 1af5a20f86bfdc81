//go:build unix

// Package closedport gives tests an address where nothing listens and
// nothing will while the test runs.
package closedport

import (
	"fmt"
	"syscall"
	"testing"
)

// Addr returns 127.0.0.1:port where connections are refused until the
// test ends: a socket holds the port without listening, so no other
// process can take it between the test's calls (closing a listener freed
// the port, and under load another test's server took it once).
func Addr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
