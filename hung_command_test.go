package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/store"
)

// TestShowOnAHungRedisAsksOnceAndSaysTheStoreDidNotAnswer: against a
// Redis that takes connections and never answers (stopped with SIGSTOP,
// swapping), show, like every command, waits for it no longer than the
// command's own time, go-redis's retries included, and its user is told
// that the store could not be reached. show's read of the upgrade's
// version (one pipeline) used to be sent four times, waiting go-redis's
// 5 s read timeout each time: 20 s and more, 35 s measured against a
// stopped redis-server, while a list gave up after one 5 s read.
func TestShowOnAHungRedisAsksOnceAndSaysTheStoreDidNotAnswer(t *testing.T) {
	hung := newSilentRedis(t, nil)
	// Started without waiting for Redis's answer to its first ping.
	started, stop := context.WithCancel(context.Background())
	stop()
	st, err := store.Open(started, store.Options{URL: "redis://" + hung.addr() + "/0", Lazy: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := bot.New(bot.Options{Config: bot.Config{Services: []bot.Service{{Name: "api"}}}, Store: st, Messenger: bot.Router{},
		Queue: st, Once: st, CommandTimeout: 300 * time.Millisecond})
	// The work context a chat adapter gives a command: two minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m := b.Handle(ctx, bot.Invocation{Actor: bot.Actor{ID: "slack:U1"}, Channel: "slack:C1", Delivery: "slack:t1"}, "show UPG-1")
	if out := m.Plain(time.UTC); m.Kind != bot.KindError || !strings.HasPrefix(out, "The bot could not reach its store just now.") {
		t.Errorf("show with Redis hung: %q", out)
	}
	if n := len(hung.commands("HGET")); n > 1 {
		t.Errorf("show sent its read of the upgrade's version %d times to a Redis that never answers; once is all its time allows", n)
	}
}
