package store_test

import (
	"testing"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// The Redis store keeps the contract the core relies on, on the test Redis
// (a real server or Cluster in CI) and on the embedded server of memory://.
func TestStoreContract(t *testing.T) {
	t.Run(storetest.Backend(), func(t *testing.T) {
		bottest.StoreContract(t, func(t *testing.T) bot.Store { return storetest.Open(t, storetest.Target(t)) })
	})
	t.Run("embedded memory://", func(t *testing.T) {
		bottest.StoreContract(t, func(t *testing.T) bot.Store { return storetest.Open(t, store.Options{URL: "memory://"}) })
	})
}
