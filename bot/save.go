package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"

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
		err = st.Update(ctx, u, d)
		if errors.Is(err, ErrConflict) && attempt < 10 {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("save %s: %w", u.Key(), err)
		}
		return u, nil
	}
}
