package bot

import (
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
