package slack

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

// Slack takes its time over an answer on a response_url (some 200 ms, far
// more when it is slow): the presses after it are recorded all the same.
// The press workers used to answer too, so answers that Slack held kept
// every worker busy, the next presses unrecorded and their 200s held back.
func TestASlowAnswerDoesNotHoldBackRecordingTheNextPresses(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.a.presses.Max = 2
	arrived := make(chan string, 16)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.URL.Path
		<-release
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(slow.Close)
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) }) // before the fixture's Wait

	const n = 6
	var reqs []*http.Request
	for i := range n {
		p := pressOf(f, i)
		p.ResponseURL = fmt.Sprintf("%s/answer/%d", slow.URL, i)
		reqs = append(reqs, slacktestapi.SignedRequest(t, f.srv.URL+PathInteractions, testSecret, slacktestapi.InteractionForm(t, slacktestapi.BlockAction(p)), f.clock.now()))
	}
	var wg sync.WaitGroup
	for _, req := range reqs {
		wg.Go(func() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("press answered %d", resp.StatusCode)
			}
		})
	}
	// Every press reaches its answer, which waits for Slack; so each was
	// recorded, two press workers or not.
	for i := range n {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d presses answered while Slack held their answers; %d recorded", i, n, len(f.core.pressed()))
		}
	}
	if got := len(f.core.pressed()); got != n {
		t.Errorf("%d presses recorded, want %d", got, n)
	}
	once.Do(func() { close(release) })
	wg.Wait()
	f.a.Wait()
}

// Review: a press whose time ran out while it waited for an answer worker
// was recorded, Slack had its 200, and the presser was never told. The
// answer is owed once the press is recorded: it waits for a worker.
func TestARecordedPressIsAnsweredHoweverLongItWaitsForAnAnswerWorker(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.a.answers.Max = 1
	f.a.deadline.Timeout = time.Nanosecond // every press's own time is up at once
	arrived := make(chan string, 4)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.URL.Path
		<-release
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(slow.Close)
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })

	for i := range 2 {
		p := pressOf(f, i)
		p.ResponseURL = fmt.Sprintf("%s/answer/%d", slow.URL, i)
		if code := f.press(t, p); code != http.StatusOK {
			t.Fatalf("press %d: %d", i, code)
		}
	}
	select { // the first answer holds the only answer worker
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the first answer never reached Slack")
	}
	once.Do(func() { close(release) })
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatalf("the second press (%d recorded) was never answered", len(f.core.pressed()))
	}
	f.a.Wait()
}
