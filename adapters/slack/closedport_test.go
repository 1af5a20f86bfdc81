package slack

import (
	"testing"

	"github.com/upgradebot/upgradebot/internal/closedport"
)

// closedPort returns 127.0.0.1:port where nothing listens while the test runs.
func closedPort(t *testing.T) string { return closedport.Addr(t) }
