package bot

import (
	"fmt"
	"sync"
)

// sideBySide calls do(i) for each of targets (channel ids), in order
// within a platform and the platforms at the same time, and returns once
// every call has returned. A platform that is slow, rate-limited or out of
// reach then holds back its own channels only: a Slack rate limit does not
// delay the Discord thread of the same notice. When do returns false, the
// rest of its platform's targets are skipped (ctx ended).
//
// A call that panics (a platform adapter's bug) is given to panicked with
// the error that says so, as that target's failure, and the others go on:
// one adapter's bug neither brings the process down nor loses what the
// other platforms did.
//
// Platforms go side by side only when d.msg routes each to a messenger of
// its own (Router); one messenger for all (the console) keeps them in
// order, so what it shows stays the same from run to run.
func (d *Delivery) sideBySide(targets []string, do func(i int) bool, panicked func(i int, err error)) {
	call := func(i int) (goOn bool) {
		defer func() {
			if r := recover(); r != nil {
				err := fmt.Errorf("the %s adapter failed (panic): %v", platformOf(targets[i]), r)
				d.log.Error("a platform's adapter panicked", "target", targets[i], "panic", fmt.Sprint(r))
				panicked(i, err)
				goOn = true
			}
		}()
		return do(i)
	}
	lanes := d.lanes(targets)
	if len(lanes) <= 1 {
		for _, lane := range lanes {
			runLane(lane, call)
		}
		return
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		escaped any // a panic of panicked itself, raised again here
	)
	for _, lane := range lanes {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					if escaped == nil {
						escaped = r
					}
					mu.Unlock()
				}
			}()
			runLane(lane, call)
		})
	}
	wg.Wait()
	if escaped != nil {
		// In the caller's goroutine, where the outbox recovers it: no
		// panic of a lane brings the process down.
		panic(escaped)
	}
}

func runLane(lane []int, do func(i int) bool) {
	for _, i := range lane {
		if !do(i) {
			return
		}
	}
}

// lanes groups the indexes of targets by platform, in order, when d.msg
// is a Router; else all in one lane.
func (d *Delivery) lanes(targets []string) [][]int {
	if len(targets) == 0 {
		return nil
	}
	if _, ok := d.msg.(Router); !ok {
		all := make([]int, len(targets))
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	var order []string
	byPlatform := map[string][]int{}
	for i, t := range targets {
		p := platformOf(t)
		if _, ok := byPlatform[p]; !ok {
			order = append(order, p)
		}
		byPlatform[p] = append(byPlatform[p], i)
	}
	out := make([][]int, 0, len(order))
	for _, p := range order {
		out = append(out, byPlatform[p])
	}
	return out
}
