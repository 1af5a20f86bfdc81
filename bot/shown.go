package bot

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
)

// shownRoots remembers, per root message, what this replica last put there
// (posted or edited), as a fingerprint of the core's message, so that a
// refresh whose rendering has not changed (a change the root does not
// show, such as a release's notes looked up after the link) edits nothing
// (QA: link edited the root twice with the same content). It is memory
// only, no round trip to the store. An entry is known only while no other
// edit of the same message ran alongside (whose order on the platform is
// unknown) and the last one succeeded; otherwise the next edit goes out.
// Another replica's edit is not seen: so the entry also records the
// upgrade's revision and acknowledgment count the content was rendered
// from, and an edit is skipped only when the upgrade moved on by at most
// one revision since, with the same acknowledgments (a change this
// replica's own edit was for, or one that does not show, such as the
// release's notes looked up after a link). Past that, another replica may
// have edited the message in between (A shows 02:00, B reschedules to
// 03:00 and edits, A reschedules back to 02:00: the same content as A
// last wrote, but not what the message shows), and the edit goes out.
type shownRoots struct {
	mu sync.Mutex
	m  map[string]*shownRoot
}

type shownRoot struct {
	fp       [sha256.Size]byte
	ver      rootVersion // the upgrade's revision and acks fp was rendered from
	known    bool        // fp is what the message shows
	inflight int         // edits started and not done
	mixed    bool        // edits overlapped: what landed last is unknown
}

// maxShownRoots bounds the entries; past it they are forgotten at once
// (the next edit of each goes out, as after a restart).
const maxShownRoots = 20000

func shownKey(ref MessageRef) string { return ref.Channel + "\x00" + ref.ID }

// fingerprint is the identity of a message's content; ok is false when it
// cannot be had (never the same as anything, then).
func fingerprint(m Message) (fp [sha256.Size]byte, ok bool) {
	m.Stamp = "" // names a message in memory, is no part of its content
	b, err := json.Marshal(m)
	if err != nil {
		return fp, false
	}
	return sha256.Sum256(b), true
}

// begin says whether ref shows fp, rendered from v, already (the edit is
// to be skipped): this replica's last edit wrote fp, from the same
// acknowledgments and v's revision or the one before it. When not, it
// notes an edit of ref started, which done must end.
func (s *shownRoots) begin(ref MessageRef, fp [sha256.Size]byte, ok bool, v rootVersion) (same bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= maxShownRoots {
		s.m = map[string]*shownRoot{}
	}
	k := shownKey(ref)
	e := s.m[k]
	if e == nil {
		e = &shownRoot{}
		s.m[k] = e
	}
	if ok && e.known && e.inflight == 0 && e.fp == fp && e.ver.acks == v.acks && (e.ver.rev == v.rev || e.ver.rev == v.rev-1) {
		return true
	}
	e.inflight++
	if e.inflight > 1 {
		e.mixed = true
	}
	e.known = false
	return false
}

// done ends an edit begun of ref: what it wrote (fp, rendered from v) is
// what ref shows when it succeeded and no other edit overlapped it.
func (s *shownRoots) done(ref MessageRef, fp [sha256.Size]byte, ok, edited bool, v rootVersion) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[shownKey(ref)]
	if e == nil { // forgotten meanwhile (maxShownRoots)
		return
	}
	e.inflight--
	e.known = ok && edited && !e.mixed
	e.fp, e.ver = fp, v
	if e.inflight <= 0 {
		e.inflight, e.mixed = 0, false
	}
}

// posted notes that ref was just posted showing m, rendered from v.
func (s *shownRoots) posted(ref MessageRef, m Message, v rootVersion) {
	fp, ok := fingerprint(m)
	if s.begin(ref, fp, ok, v) {
		return
	}
	s.done(ref, fp, ok, true, v)
}
