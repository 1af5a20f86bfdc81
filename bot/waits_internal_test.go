package bot

import (
	"context"
	"errors"
	"testing"
	"time"
)

// rateLimited is a platform's rate limit the messenger did not wait out.
type rateLimited struct{ wait time.Duration }

func (e rateLimited) Error() string       { return "rate_limited" }
func (e rateLimited) Wait() time.Duration { return e.wait }

// A notice whose platform asked to wait past the notice's time is failed as
// too late; but one whose delivery a shutdown cut while it waited is not
// (it is put back and sent by the next run, as any cut-short notice).
func TestWaitsTooLongOnlyForTheNoticesOwnTime(t *testing.T) {
	late := &tooLate{why: "before the window opened", at: time.Now().Add(time.Second)}
	ctx, cancel := withTooLate(context.Background(), late)
	defer cancel()
	err, gaveUp := waitsTooLong(ctx, rateLimited{20 * time.Second})
	if !gaveUp || !errors.Is(err, late) {
		t.Fatalf("a 20s wait with 1s left: %v, given up %v; want it failed as too late", err, gaveUp)
	}
	if err, gaveUp := waitsTooLong(ctx, rateLimited{time.Millisecond}); gaveUp {
		t.Errorf("a wait shorter than what is left was given up: %v", err)
	}

	parent, shutdown := context.WithCancel(context.Background())
	ctx, cancel = withTooLate(parent, &tooLate{why: "before the window opened", at: time.Now().Add(time.Second)})
	defer cancel()
	shutdown()
	if err, gaveUp := waitsTooLong(ctx, rateLimited{20 * time.Second}); gaveUp {
		t.Errorf("a notice cut by a shutdown was failed as too late: %v", err)
	}
}
