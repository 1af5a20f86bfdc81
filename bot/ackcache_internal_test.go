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
	c.writing(1) // a press of this replica, being written
	st.acks = append(st.acks, ack("c"))
	get(true, 2, 1)  // a refresh: the press will refresh again once added
	get(false, 3, 2) // show: exact
	c.done(1)        // that press recorded nothing new after all
	st.acks = append(st.acks, ack("d"))
	get(true, 4, 3) // nothing being written explains it: read
	c.writing(1)
	st.acks = append(st.acks, ack("e"))
	c.done(1, ack("e"))
	get(false, 5, 3) // recorded here: nothing to read
}
