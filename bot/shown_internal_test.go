package bot

import "testing"

// What a root shows is known only after an edit that succeeded and ran
// alone: then the same content again is skipped, and anything else, or
// anything after a failed or overlapping edit, goes out.
func TestShownRootsSkipOnlyWhatIsSurelyShown(t *testing.T) {
	var s shownRoots
	v1 := rootVersion{rev: 1}
	ref := MessageRef{Channel: "test:#payments", ID: "m1"}
	other := MessageRef{Channel: "test:#ops", ID: "m1"}
	a, aok := fingerprint(Message{Title: "UPG-1", Stamp: "x"})
	b, bok := fingerprint(Message{Title: "UPG-1 v2"})
	if same, _ := fingerprint(Message{Title: "UPG-1"}); same != a {
		t.Fatal("the stamp is part of the fingerprint")
	}
	edit := func(ref MessageRef, fp [32]byte, ok, edited bool) bool {
		if s.begin(ref, fp, ok, v1) {
			return false
		}
		s.done(ref, fp, ok, edited, v1)
		return true
	}
	s.posted(ref, Message{Title: "UPG-1"}, v1)
	if edit(ref, a, aok, true) {
		t.Error("the content just posted was edited in again")
	}
	if !edit(other, a, aok, true) {
		t.Error("another channel's root was taken for this one")
	}
	if !edit(ref, b, bok, true) || edit(ref, b, bok, true) {
		t.Error("a change went out not once")
	}
	// A failed edit: the next one goes out, whatever it holds.
	if !edit(ref, a, aok, false) || !edit(ref, a, aok, true) || edit(ref, a, aok, true) {
		t.Error("after a failed edit")
	}
	// Two edits side by side: which landed last is unknown.
	if s.begin(ref, b, bok, v1) || s.begin(ref, a, aok, v1) {
		t.Fatal("an edit alongside another was skipped")
	}
	s.done(ref, a, aok, true, v1)
	s.done(ref, b, bok, true, v1)
	if !edit(ref, b, bok, true) {
		t.Error("after overlapping edits, the next was skipped")
	}
	if edit(ref, b, bok, true) {
		t.Error("once alone again, the same content went out twice")
	}
	// Without a fingerprint, nothing is skipped.
	if !edit(ref, b, false, true) || !edit(ref, b, false, true) {
		t.Error("an edit without a fingerprint was skipped")
	}
}

// The same content is skipped only when the upgrade moved on by at most
// one revision since it was written, with the same acknowledgments:
// otherwise another replica may have edited the message in between.
func TestShownRootsSkipOnlyFromTheRevisionWrittenOrTheNext(t *testing.T) {
	ref := MessageRef{Channel: "test:#payments", ID: "m1"}
	m := Message{Title: "UPG-1"}
	fp, ok := fingerprint(m)
	for _, c := range []struct {
		now  rootVersion
		skip bool
	}{
		{rootVersion{rev: 3, acks: 1}, true},  // the same revision
		{rootVersion{rev: 4, acks: 1}, true},  // the next one (link, then its release's notes)
		{rootVersion{rev: 5, acks: 1}, false}, // another change in between
		{rootVersion{rev: 4, acks: 2}, false}, // another press
		{rootVersion{rev: 2, acks: 1}, false}, // older than what was written
	} {
		var s shownRoots
		s.posted(ref, m, rootVersion{rev: 3, acks: 1})
		if got := s.begin(ref, fp, ok, c.now); got != c.skip {
			t.Errorf("written at rev 3 with 1 ack, now %+v: skipped %v, want %v", c.now, got, c.skip)
		}
	}
}
