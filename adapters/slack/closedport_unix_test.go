//go:build unix

package slack

import (
	"fmt"
	"syscall"
	"testing"
)

// closedPort returns 127.0.0.1:port where nothing listens, and nothing
// will while the test runs: the port stays bound to a socket that never
// listens, so a connection is refused, and no other process can take the
// port between the test's calls (closing a listener freed it, and under
// load another test's server took it once).
func closedPort(t *testing.T) string {
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
