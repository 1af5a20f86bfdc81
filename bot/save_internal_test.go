package bot

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestAWriteStartsOnlyWithTimeLeftForIt: a change is not written when
// its deadline leaves less than a few times what the read before it
// took; the write would most likely be cut off, its outcome unknown.
func TestAWriteStartsOnlyWithTimeLeftForIt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if err := writeBudget(ctx, time.Millisecond); err != nil {
		t.Fatalf("an hour left after a read of 1ms: %v; want the write to start", err)
	}
	if err := writeBudget(ctx, time.Hour); !errors.Is(err, errTooLate) {
		t.Fatalf("an hour left after a read of an hour: %v; want errTooLate", err)
	}
	if err := writeBudget(context.Background(), time.Hour); err != nil {
		t.Fatalf("no deadline: %v; want the write to start", err)
	}
	err := &unsettled{err: errTooLate, key: "UPG-1", known: true}
	if msg := ErrorMessage(err); msg != "The bot's store did not answer in time, and nothing was saved. Try again in a minute." {
		t.Fatalf("the user reads %q", msg)
	}
}
