//go:build unix

package store

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// closedAddr is 127.0.0.1:port where nothing listens while the test runs:
// a socket holds the port without listening, so connections are refused.
func closedAddr(t *testing.T) string {
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

// TestOpenDoesNotWaitLongForSentinels: with no Sentinel answering, the
// first ping took half a minute and more (QA: 37 s), and serve did not
// listen meanwhile, so a liveness probe would have killed it. Open now
// gives up the ping after startupPing and serve starts, not ready.
func TestOpenDoesNotWaitLongForSentinels(t *testing.T) {
	url := "redis+sentinel://" + closedAddr(t) + "," + closedAddr(t) + "," + closedAddr(t) + "/mymaster/0"
	done := make(chan error, 1)
	var s *Store
	go func() {
		var err error
		s, err = Open(context.Background(), Options{URL: url, Lazy: true}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Open (lazy) = %v, want a store that retries", err)
		}
		s.Close()
	case <-time.After(20 * time.Second): // four times the bound; it took 37 s and more
		t.Fatal("Open still waiting after 20s")
	}
}
