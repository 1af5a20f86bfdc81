package bot

import "testing"

// What a root shows is known only after an edit that succeeded and ran
// alone: then the same content again is skipped, and anything else, or
// anything after a failed or overlapping edit, goes out.
func TestShownRootsSkipOnlyWhatIsSurelyShown(t *testing.T) {
	var s shownRoots
	ref := MessageRef{Channel: "test:#payments", ID: "m1"}
	other := MessageRef{Channel: "test:#ops", ID: "m1"}
	a, aok := fingerprint(Message{Title: "UPG-1", Stamp: "x"})
	b, bok := fingerprint(Message{Title: "UPG-1 v2"})
	if same, _ := fingerprint(Message{Title: "UPG-1"}); same != a {
		t.Fatal("the stamp is part of the fingerprint")
	}
	edit := func(ref MessageRef, fp [32]byte, ok, edited bool) bool {
		if s.begin(ref, fp, ok) {
			return false
		}
		s.done(ref, fp, ok, edited)
		return true
	}
	s.posted(ref, Message{Title: "UPG-1"})
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
	if s.begin(ref, b, bok) || s.begin(ref, a, aok) {
		t.Fatal("an edit alongside another was skipped")
	}
	s.done(ref, a, aok, true)
	s.done(ref, b, bok, true)
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
