package bot

import (
	"sync"
	"testing"
)

// Event ids are 24 lowercase hex digits and never repeat, also when many
// presses make them at once (the relay publishes each id once).
func TestRandomIDsAreDistinctHex(t *testing.T) {
	const workers, each = 8, 5000
	ids := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				ids[w] = append(ids[w], randomID())
			}
		})
	}
	wg.Wait()
	seen := make(map[string]bool, workers*each)
	for _, list := range ids {
		for _, id := range list {
			if len(id) != 24 {
				t.Fatalf("id %q: %d characters, want 24", id, len(id))
			}
			for _, c := range id {
				if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
					t.Fatalf("id %q is not lowercase hex", id)
				}
			}
			if seen[id] {
				t.Fatalf("id %q made twice", id)
			}
			seen[id] = true
		}
	}
	// Cut shorter (request ids, notice keys) they still differ.
	if a, b := randomID()[:16], randomID()[:16]; a == b {
		t.Fatalf("two request ids %q", a)
	}
}

// sink keeps what a benchmark makes, so that it is made.
var sink string

func BenchmarkRandomID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink = randomID()
	}
}
