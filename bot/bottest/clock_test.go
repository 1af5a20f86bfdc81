package bottest

import (
	"testing"
	"time"
)

// TestClockWhenRunsAtTheMomentItIsMovedTo: a func given to When runs in
// the Set or Advance that moves the clock to its moment, not before, and
// at once for a moment already past; a stopped one never runs.
func TestClockWhenRunsAtTheMomentItIsMovedTo(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	c := NewClock(t0)
	var ran []string
	c.When(t0.Add(time.Hour), func() { ran = append(ran, "window") })
	stop := c.When(t0.Add(30*time.Minute), func() { ran = append(ran, "stopped") })
	if !stop() || stop() {
		t.Fatal("stop does not report whether it stopped the func")
	}
	c.Advance(59 * time.Minute)
	if len(ran) != 0 {
		t.Fatalf("ran %v before the moment", ran)
	}
	c.Set(t0.Add(time.Hour))
	c.When(t0, func() { ran = append(ran, "past") })
	c.Advance(time.Hour)
	if want := []string{"window", "past"}; len(ran) != 2 || ran[0] != want[0] || ran[1] != want[1] {
		t.Fatalf("ran %v, want %v", ran, want)
	}
}
