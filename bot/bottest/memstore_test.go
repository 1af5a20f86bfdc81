package bottest_test

import (
	"testing"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// The double the core's tests use keeps the same contract as the Redis store.
func TestMemStoreKeepsTheStoreContract(t *testing.T) {
	bottest.StoreContract(t, func(*testing.T) bot.Store { return bottest.NewMemStore() })
}
