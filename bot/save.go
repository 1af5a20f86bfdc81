package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// load reads one upgrade; a missing one is a user error that says what to do.
func load(ctx context.Context, st Store, id int) (*Upgrade, error) {
	u, err := st.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, refusal(ENOTFOUND, T("Unknown upgrade "+commands.FormatID(id)+". Try ").Command(hint("list")).Add("."))
	} else if err != nil {
		return nil, fmt.Errorf("load %s: %w", commands.FormatID(id), err)
	}
	return u, nil
}

// change applies fn to the latest stored upgrade and saves it, retrying when
// another replica changed it meanwhile. fn returns the decision to log (none
// when its Action is empty); an error from fn changes nothing.
func change(ctx context.Context, st Store, now Clock, id int, fn func(u *Upgrade) (Decision, error)) (*Upgrade, error) {
	for attempt := 0; ; attempt++ {
		t0 := time.Now()
		u, err := load(ctx, st, id)
		if err != nil {
			return nil, err
		}
		if u.CalendarRev == 0 { // a record from before it was kept: go on from Rev
			u.CalendarRev = u.Rev + 1
		}
		view := u.CalendarView() // a copy: fn may change u's slices in place
		d, err := fn(u)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(view, u.CalendarView()) {
			u.CalendarRev++
		}
		u.Rev++
		u.UpdatedAt = now().UTC()
		if err := writeBudget(ctx, time.Since(t0)); err != nil {
			return nil, fmt.Errorf("save %s: %w", u.Key(), &unsettled{err: err, key: u.Key(), known: true})
		}
		err = st.Update(ctx, u, d)
		if errors.Is(err, ErrConflict) && attempt < 10 {
			continue
		} else if errors.Is(err, ErrOutcomeUnknown) {
			resend := func(ctx context.Context) error { return st.Update(ctx, u, d) }
			if err = settle(ctx, st, u, d, err, resend); err == nil {
				return u, nil // it was saved: go on as after any change
			}
		}
		if err != nil {
			return nil, fmt.Errorf("save %s: %w", u.Key(), err)
		}
		return u, nil
	}
}

// settleTimeout bounds the write and read that settle a write of unknown
// outcome: their own time, since the caller's has most likely run out.
const settleTimeout = 3 * time.Second

// settle finds out whether the write of u (revision u.Rev) with decision d,
// whose outcome is unknown (cause wraps ErrOutcomeUnknown), was applied.
// A read alone cannot tell: the first write may still be in flight (on a
// connection cut under its answer) and land after the read. So it sends
// the same write again (resend: the store's Update or Create of u and d,
// with the same event id), with a time of its own. The store's
// compare-and-set applies one of the two at most: the resend succeeds
// when it applied the change or found its own write (the same event id)
// landed; a conflict says another write is stored at or past u.Rev, after
// which nothing of ours can land any more, and a read tells whether ours
// is among them (landed). It returns nil when the change is stored: the
// caller goes on as after any change (its answer, its notices), so nobody
// is told "failed" of a change that was stored. Otherwise an *unsettled
// error words what is known: not applied (nothing changed), or still
// unknown (check before trying again).
func settle(ctx context.Context, st Store, u *Upgrade, d Decision, cause error, resend func(context.Context) error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	err := resend(sctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return &unsettled{err: cause, key: u.Key(), known: true}
	case !errors.Is(err, ErrConflict):
		return &unsettled{err: cause, key: u.Key()}
	}
	applied, known := landed(sctx, st, u, d)
	switch {
	case applied:
		return nil
	case known:
		return &unsettled{err: cause, key: u.Key(), known: true}
	}
	return &unsettled{err: cause, key: u.Key()}
}

// landed reports whether the write of u with d is in the store, and
// whether that could be told, once the same write sent again met a
// conflict (nothing of ours is in flight any more: the stored revision is
// u.Rev or past it). When the stored revision is u.Rev, the stored
// upgrade is ours exactly when it is the same; when it is newer, the
// decision log says whether ours is one of the changes since (a change
// without a decision cannot be told).
func landed(ctx context.Context, st Store, u *Upgrade, d Decision) (applied, known bool) {
	got, err := st.Get(ctx, u.ID)
	if errors.Is(err, ErrNotFound) {
		return false, true
	} else if err != nil {
		return false, false
	}
	switch {
	case got.Rev < u.Rev: // not after a conflict: the store is not as it said
		return false, false
	case got.Rev == u.Rev:
		mine, err1 := json.Marshal(u)
		stored, err2 := json.Marshal(got)
		if err1 != nil || err2 != nil {
			return false, false
		}
		return bytes.Equal(mine, stored), true
	case d.Action == "":
		return false, false
	}
	log, err := st.Log(ctx, u.ID)
	if err != nil {
		return false, false
	}
	for _, x := range slices.Backward(log) {
		if x.Action == d.Action && x.Actor == d.Actor && x.At.Equal(d.At) && x.Reason == d.Reason {
			return true, true
		}
	}
	return false, true
}

// writeBudget refuses to start a write that would most likely outlive
// ctx: one whose deadline leaves less than writeRoundTrips times the time
// the read before it took (the write is that many calls to the store).
// A write cut off by the deadline leaves its outcome unknown, which is
// worse for the user than a change refused before it started.
func writeBudget(ctx context.Context, read time.Duration) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		return nil
	}
	if left := time.Until(deadline); left < writeRoundTrips*read {
		return fmt.Errorf("%s left, the read before took %s: %w", left.Round(time.Millisecond), read.Round(time.Millisecond), errTooLate)
	}
	return nil
}

// writeRoundTrips is how many reads' time a write needs left to start.
const writeRoundTrips = 3

// errTooLate: a write was not started, too little of the deadline left.
var errTooLate = errors.New("too little time left to save the change; not written")

// afterSave is the context for what follows a saved change (its event,
// its re-plan, its notices) when ctx ran out meanwhile: a change settled
// as saved after its deadline (settle) still gets all of them.
func afterSave(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return bookkeeping(ctx)
}
