package bot

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Acknowledgments added out of order (presses finish in any order) list in
// the store's order, and a list handed out earlier never changes.
func TestAckSetListsInTheStoresOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	ack := func(sec int, who string) Ack {
		return Ack{Scope: ScopeBrief, Who: who, At: t0.Add(time.Duration(sec) * time.Second)}
	}
	var all []Ack
	for i := range 40 {
		all = append(all, ack(i%10, fmt.Sprintf("p%02d", i)))
	}
	s := &ackSet{seen: map[string]bool{}}
	var earlier, copies [][]Ack
	for i := len(all) - 1; i >= 0; i -= 3 {
		for j := i; j > i-3 && j >= 0; j-- {
			s.add(all[j])
			s.add(all[j]) // twice: kept once
		}
		l := s.list()
		earlier, copies = append(earlier, l), append(copies, slices.Clone(l))
		_ = append(l, ack(99, "caller")) // a caller's append does not reach the cache
		if got := s.list(); !slices.Equal(got, copies[len(copies)-1]) {
			t.Fatalf("a list changed after a caller's append")
		}
	}
	for i := range earlier {
		if !slices.Equal(earlier[i], copies[i]) {
			t.Fatalf("list %d handed out earlier changed", i)
		}
	}
	want := slices.Clone(all)
	slices.SortFunc(want, compareAcks)
	if got := s.list(); !slices.Equal(got, want) {
		t.Fatalf("list = %v\nwant %v", got, want)
	}
}

// acksStore is a store of one upgrade's acknowledgments that counts reads.
type acksStore struct {
	Store
	acks  []Ack
	reads int
}

func (s *acksStore) Acks(context.Context, int) ([]Ack, error) {
	s.reads++
	return slices.Clone(s.acks), nil
}

func (s *acksStore) Version(context.Context, int) (int, int, error) { return 1, len(s.acks), nil }

// The cache reads all acknowledgments only when the stored count is not
// explained: by what it has, or (for a root refresh) by this replica's
// presses still being written.
func TestAckCacheReadsOnlyWhenTheCountIsNotExplained(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	ack := func(who string) Ack { return Ack{Scope: ScopeBrief, Who: who, At: t0} }
	st := &acksStore{acks: []Ack{ack("a"), ack("b")}}
	c := newAckCache(st)
	get := func(recent bool, wantLen, wantReads int) {
		t.Helper()
		got, err := c.get(ctx, 1, recent)
		if err != nil || len(got) != wantLen || st.reads != wantReads {
			t.Fatalf("get(recent %v): %d acks, %d reads (%v); want %d, %d", recent, len(got), st.reads, err, wantLen, wantReads)
		}
	}
	get(false, 2, 1)
	get(false, 2, 1)
	p := c.writing(1) // a press of this replica, being written
	st.acks = append(st.acks, ack("c"))
	get(true, 2, 1)  // a refresh: the press will refresh again once added
	get(false, 3, 2) // show: exact
	c.done(1, p)     // that press recorded nothing new after all
	st.acks = append(st.acks, ack("d"))
	get(true, 4, 3) // nothing being written explains it: read
	p = c.writing(1)
	st.acks = append(st.acks, ack("e"))
	c.done(1, p, ack("e"))
	get(false, 5, 3) // recorded here: nothing to read
}

// pausedRead is a store whose next read of all acknowledgments, once
// paused, takes its copy and then waits to be let go: a press can finish
// meanwhile.
type pausedRead struct {
	acksStore
	pause           bool
	reading, resume chan struct{}
}

func (s *pausedRead) Acks(ctx context.Context, id int) ([]Ack, error) {
	out, err := s.acksStore.Acks(ctx, id)
	if s.pause {
		s.pause = false
		s.reading <- struct{}{}
		<-s.resume
	}
	return out, err
}

// A press recorded while the cache reads everything again, and listed by
// a refresh before the read is back, stays in the cache: lost, it made the
// count of every later refresh miss and read all the acknowledgments again.
func TestAckCacheKeepsWhatWasRecordedDuringARead(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	ack := func(who string) Ack { return Ack{Scope: ScopeBrief, Who: who, At: t0} }
	st := &pausedRead{acksStore: acksStore{acks: []Ack{ack("a")}}, reading: make(chan struct{}), resume: make(chan struct{})}
	c := newAckCache(st)
	if _, err := c.counted(ctx, 1, 1, false, c.held(1)); err != nil {
		t.Fatal(err)
	}
	st.acks = append(st.acks, ack("b")) // another replica's
	st.pause = true
	done := make(chan error)
	go func() { _, err := c.counted(ctx, 1, 2, false, c.held(1)); done <- err }()
	<-st.reading // it has read a and b
	p := c.writing(1)
	st.acks = append(st.acks, ack("c"))
	c.done(1, p, ack("c"))
	if got, _ := c.counted(ctx, 1, 2, true, c.held(1)); len(got) != 2 { // a refresh lists a and c
		t.Fatalf("refresh listed %v", got)
	}
	st.resume <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	reads := st.reads
	got, err := c.counted(ctx, 1, 3, false, c.held(1))
	if err != nil || len(got) != 3 || st.reads != reads {
		t.Fatalf("after the read: %v (%v), %d more reads; want a, b and c from the cache", got, err, st.reads-reads)
	}
}

// A press that began before the cache kept the upgrade's acknowledgments
// is not discounted from the presses being written that began after.
func TestAckCacheCountsOnlyThePressesItSawBegin(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	ack := func(who string) Ack { return Ack{Scope: ScopeBrief, Who: who, At: t0} }
	st := &acksStore{}
	c := newAckCache(st)
	early := c.writing(1) // nothing kept yet
	st.acks = append(st.acks, ack("a"))
	if _, err := c.counted(ctx, 1, 1, true, c.held(1)); err != nil || st.reads != 1 {
		t.Fatalf("first read: %d reads, %v", st.reads, err)
	}
	late := c.writing(1)
	c.done(1, early, ack("a"))
	st.acks = append(st.acks, ack("b")) // late's, still being written
	if got, err := c.counted(ctx, 1, 2, true, c.held(1)); err != nil || len(got) != 1 || st.reads != 1 {
		t.Fatalf("a refresh with a press being written: %v (%v), %d reads; want a from the cache", got, err, st.reads)
	}
	c.done(1, late, ack("b"))
	if got, err := c.counted(ctx, 1, 2, false, c.held(1)); err != nil || len(got) != 2 || st.reads != 1 {
		t.Fatalf("after it: %v (%v), %d reads; want a and b from the cache", got, err, st.reads)
	}
}

// countRace is a store whose count, once read, lets a press of this
// replica be recorded and added before the cache checks that count.
type countRace struct {
	acksStore
	after func()
}

func (s *countRace) Version(ctx context.Context, id int) (int, int, error) {
	rev, n, err := s.acksStore.Version(ctx, id)
	if s.after != nil {
		s.after()
		s.after = nil
	}
	return rev, n, err
}

// A press of this replica recorded between the read of the stored count
// and its check leaves the cache with more than the count, and current:
// under a burst that was nearly every refresh and show, and each read all
// the acknowledgments again. Another replica's acknowledgment stored
// meanwhile is still read.
func TestAckCacheIsCurrentWhenAPressLandsDuringTheCount(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	ack := func(who string) Ack { return Ack{Scope: ScopeBrief, Who: who, At: t0} }
	st := &countRace{acksStore: acksStore{acks: []Ack{ack("a"), ack("b")}}}
	c := newAckCache(st)
	press := func(who string) func() {
		return func() {
			p := c.writing(1)
			st.acks = append(st.acks, ack(who))
			c.done(1, p, ack(who))
		}
	}
	if _, err := c.get(ctx, 1, false); err != nil || st.reads != 1 {
		t.Fatalf("first read: %d reads, %v", st.reads, err)
	}
	for i, recent := range []bool{true, false} { // a root refresh, a show
		st.after = press(fmt.Sprintf("p%d", i))
		got, err := c.get(ctx, 1, recent)
		if err != nil || len(got) != 3+i || st.reads != 1 {
			t.Fatalf("get(recent %v) with a press landing during the count: %d acks (%v), %d reads; want %d from the cache", recent, len(got), err, st.reads, 3+i)
		}
	}
	st.after = func() {
		st.acks = append(st.acks, ack("other")) // another replica's, after the count
		press("p2")()
	}
	if got, _ := c.get(ctx, 1, false); len(got) != 5 || st.reads != 1 {
		t.Fatalf("got %d acks, %d reads; want 5 from the cache (the other replica's is for the next count)", len(got), st.reads)
	}
	if got, _ := c.get(ctx, 1, false); len(got) != 6 || st.reads != 2 {
		t.Fatalf("next count: %d acks, %d reads; want all 6, read again", len(got), st.reads)
	}
}

// Another replica's acknowledgment stored before the count is read, and a
// press of this replica landing after it, leave the cache with as many as
// the count but not the same ones: a show reads them all again and shows
// the other replica's.
func TestAckCacheReadsWhenAnotherReplicasAckIsInTheCount(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	ack := func(who string) Ack { return Ack{Scope: ScopeBrief, Who: who, At: t0} }
	st := &countRace{acksStore: acksStore{acks: []Ack{ack("a"), ack("b")}}}
	c := newAckCache(st)
	if _, err := c.get(ctx, 1, false); err != nil || st.reads != 1 {
		t.Fatalf("first read: %d reads, %v", st.reads, err)
	}
	st.acks = append(st.acks, ack("other")) // another replica's: in the count
	st.after = func() {                     // this replica's, after the count
		p := c.writing(1)
		st.acks = append(st.acks, ack("mine"))
		c.done(1, p, ack("mine"))
	}
	got, err := c.get(ctx, 1, false)
	if err != nil || st.reads != 2 || !slices.ContainsFunc(got, func(a Ack) bool { return a.Who == "other" }) {
		t.Fatalf("show: %v (%v), %d reads; want the other replica's acknowledgment, read again", got, err, st.reads)
	}
}
