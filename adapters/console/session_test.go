package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// newTestSession is a session on a real core (in-memory store, no job
// queue) with the console's clock pinned at t0; ticker may be nil.
func newTestSession(t *testing.T, ticker Ticker, out io.Writer) (*Session, *Clock, *Messenger) {
	t.Helper()
	cfg := bot.Config{
		People:   []bot.Person{{Name: "alice", IDs: []string{"console:alice"}}, {Name: "bob", IDs: []string{"console:bob", "slack:U023BC4DE"}}},
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}, Channels: []string{"console:#payments"}}},
	}
	clock := NewClock(func() time.Time { return t0 })
	ms := NewMessenger(time.UTC, bot.NewDirectory(cfg))
	b := bot.New(bot.Options{Config: cfg, Store: bottest.NewMemStore(), Messenger: ms, Now: clock.Now, RefreshIntervalSet: true})
	s := NewSession(Options{Bot: b, Messenger: ms, Clock: clock, Ticker: ticker, Person: "alice", Location: time.UTC, Out: out})
	return s, clock, ms
}

// terminalIO is the far side of a terminal: keys typed, screen written.
type terminalIO struct {
	in  io.Reader
	mu  sync.Mutex
	out bytes.Buffer
}

func (f *terminalIO) Read(p []byte) (int, error) { return f.in.Read(p) }
func (f *terminalIO) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.Write(p)
}
func (f *terminalIO) screen() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.String()
}

// runKeys types keys into an interactive session (RunTerminal on a
// terminal that is not a tty) and returns what the screen received.
func runKeys(t *testing.T, keys string) string {
	t.Helper()
	tio := &terminalIO{in: strings.NewReader(keys)}
	s, _, _ := newTestSession(t, nil, nil)
	done := make(chan error, 1)
	go func() {
		done <- s.RunTerminal(context.Background(), tio, func() (int, int, error) { return 200, 50, nil })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunTerminal: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("RunTerminal did not return; screen:\n%s", tio.screen())
	}
	return tio.screen()
}

const (
	up     = "\x1b[A"
	ctrlC  = "\x03"
	ctrlD  = "\x04"
	enter  = "\r"
	helpIs = "/upgrade plans and announces upgrade windows."
)

// The interactive console edits lines with golang.org/x/term: ↑ recalls
// earlier lines (the history skips repeats, empty and abandoned lines),
// the prompt follows :as, Ctrl-C abandons a line with text and leaves on
// an empty one, and the bot's output reaches the screen with \r\n.
func TestTerminalHistoryAndCtrlC(t *testing.T) {
	screen := runKeys(t, strings.Join([]string{
		"/upgrade help" + enter,
		":as bob" + enter,
		enter,                   // an empty line: not kept
		up + up + enter,         // ↑↑: /upgrade help again, now as bob
		"/upgrade frob" + ctrlC, // abandoned: neither run nor kept
		up + enter,              // the latest kept line: /upgrade help
		ctrlC,                   // on an empty line: leave
		":as alice" + enter,     // never read
	}, ""))
	if got := strings.Count(screen, "── reply to alice (only you can see this)"); got != 1 {
		t.Errorf("alice got %d replies, want 1 (the first help):\n%s", got, screen)
	}
	if got := strings.Count(screen, "── reply to bob (only you can see this)"); got != 2 {
		t.Errorf("bob got %d replies, want 2 (help recalled with ↑↑, then ↑):\n%s", got, screen)
	}
	if got := strings.Count(screen, helpIs); got != 3 {
		t.Errorf("the help was shown %d times, want 3:\n%s", got, screen)
	}
	for _, want := range []string{"alice> /upgrade help\r\n", "you are now bob (console:bob)\r\n", "/upgrade frob^C\r\n"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "frob\"") || strings.Contains(screen, "Unknown") {
		t.Errorf("the abandoned line ran:\n%s", screen)
	}
	if strings.Contains(screen, "you are now alice") {
		t.Errorf("input after Ctrl-C on an empty line was read:\n%s", screen)
	}
	if bare := strings.Count(screen, "\n") - strings.Count(screen, "\r\n"); bare != 0 {
		t.Errorf("%d lines end in a bare \\n (raw mode needs \\r\\n):\n%q", bare, screen)
	}
}

// A platform id of a [[people]] entry is that person: after :as with it,
// the prompt and the replies name the person, as after :as with the name,
// in a script and in a terminal.
func TestAsPlatformIDOfAPersonIsThatPerson(t *testing.T) {
	var out bytes.Buffer
	s, _, _ := newTestSession(t, nil, &out)
	s.o.Echo, s.o.Prompt = true, true
	if err := s.Run(context.Background(), strings.NewReader(":as slack:U023BC4DE\n/upgrade help\n")); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"you are now bob (slack:U023BC4DE)\n", "bob> \nbob> /upgrade help\n── reply to bob (only you can see this)\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "slack:U023BC4DE>") || strings.Contains(got, "reply to slack:") {
		t.Errorf("the platform id names the person:\n%s", got)
	}

	screen := runKeys(t, ":as slack:U023BC4DE"+enter+"/upgrade help"+enter+ctrlD)
	for _, want := range []string{"bob> /upgrade help\r\n", "── reply to bob (only you can see this)"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "slack:U023BC4DE>") {
		t.Errorf("the prompt is the platform id:\n%s", screen)
	}
}

func TestTerminalCtrlDLeavesOnAnEmptyLineOnly(t *testing.T) {
	// On a line with text Ctrl-D deletes the character under the cursor
	// (none at the end): the line still runs.
	screen := runKeys(t, ":as bob"+ctrlD+enter+ctrlD+":as alice"+enter)
	if !strings.Contains(screen, "you are now bob") {
		t.Errorf("Ctrl-D on a line with text dropped it:\n%s", screen)
	}
	if strings.Contains(screen, "you are now alice") {
		t.Errorf("input after Ctrl-D on an empty line was read:\n%s", screen)
	}
	// :quit leaves too; so does the end of the input.
	if screen := runKeys(t, ":quit"+enter+":as bob"+enter); strings.Contains(screen, "you are now bob") {
		t.Errorf("input after :quit was read:\n%s", screen)
	}
	runKeys(t, ":as bob")
}

func TestTerminalStopsWhenTheContextEnds(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	tio := &terminalIO{in: pr}
	s, _, _ := newTestSession(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunTerminal(ctx, tio, nil) }()
	io.WriteString(pw, ":as bob"+enter)
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Fatalf("RunTerminal = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunTerminal did not return when its context ended")
	}
}

func TestInterruptReaderKeepsTheReadError(t *testing.T) {
	r := &interruptReader{r: strings.NewReader("a\x03b")}
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "a"+string(keyInterrupt)+"\rb" {
		t.Fatalf("read %q, %v", got, err)
	}
	// A reader small enough to hand the rune over in pieces.
	r = &interruptReader{r: strings.NewReader("\x03\x03")}
	var all []byte
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		all = append(all, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := strings.Repeat(string(keyInterrupt)+"\r", 2); string(all) != want {
		t.Fatalf("read %q, want %q", all, want)
	}
}

// fakeTicker is a scheduler whose jobs, each due at a moment, post a
// message naming it when run; a job that fails comes back retry later.
type fakeTicker struct {
	clock *Clock
	ms    *Messenger
	jobs  []fakeJob
	ran   []time.Time // the console's time at each job run
}

type fakeJob struct {
	due   time.Time
	name  string // "": sends nothing
	retry time.Duration
}

func (f *fakeTicker) NextDue(context.Context) (time.Time, bool, error) {
	if len(f.jobs) == 0 {
		return time.Time{}, false, nil
	}
	return slices.MinFunc(f.jobs, func(a, b fakeJob) int { return a.due.Compare(b.due) }).due, true, nil
}

func (f *fakeTicker) RunDue(ctx context.Context) (int, error) {
	now := f.clock.Now()
	n := 0
	var rest []fakeJob
	for _, j := range f.jobs {
		if j.due.After(now) {
			rest = append(rest, j)
			continue
		}
		n++
		f.ran = append(f.ran, now)
		if j.retry > 0 {
			j.due = now.Add(j.retry)
			rest = append(rest, j)
			continue
		}
		if j.name != "" {
			f.ms.Post(ctx, "console:#ops", bot.Message{Title: fmt.Sprintf("%s (due %s)", j.name, j.due.Format("01-02 15:04"))})
		}
	}
	f.jobs = rest
	return n, nil
}

func TestAdvanceStopsAtEachDueMoment(t *testing.T) {
	var out bytes.Buffer
	tk := &fakeTicker{}
	s, clock, ms := newTestSession(t, tk, &out)
	tk.clock, tk.ms = clock, ms
	tk.jobs = []fakeJob{
		{due: t0.Add(72 * time.Hour), name: "second"},
		{due: t0.Add(24 * time.Hour), name: "first"},
		{due: t0.Add(48 * time.Hour)}, // sends nothing: no clock line
		{due: t0.Add(96 * time.Hour), name: "at the target"},
		{due: t0.Add(97 * time.Hour), name: "after the target"},
	}
	s.Line(context.Background(), ":advance 4d")
	want := `the clock is now 2026-11-23 10:00 UTC
── #ops · new message m1
  │ first (due 11-23 10:00)
the clock is now 2026-11-25 10:00 UTC
── #ops · new message m2
  │ second (due 11-25 10:00)
the clock is now 2026-11-26 10:00 UTC
── #ops · new message m3
  │ at the target (due 11-26 10:00)
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if !clock.Now().Equal(t0.Add(96 * time.Hour)) {
		t.Errorf("the clock is at %s, want the target", clock.Now())
	}
	for i, at := range []time.Duration{24, 48, 72, 96} {
		if i >= len(tk.ran) || !tk.ran[i].Equal(t0.Add(at*time.Hour)) {
			t.Fatalf("jobs ran at %v, want each at its due time", tk.ran)
		}
	}
	if len(tk.jobs) != 1 || tk.jobs[0].name != "after the target" {
		t.Errorf("left %v, want only the job after the target", tk.jobs)
	}
}

func TestAdvanceGivesUpOnAJobThatKeepsFailing(t *testing.T) {
	var out bytes.Buffer
	tk := &fakeTicker{}
	s, clock, ms := newTestSession(t, tk, &out)
	tk.clock, tk.ms = clock, ms
	tk.jobs = []fakeJob{{due: t0.Add(time.Minute), retry: 5 * time.Second}}
	s.Line(context.Background(), ":advance 7d")
	stopped := t0.Add(time.Minute + (maxAdvanceSteps-1)*5*time.Second)
	if len(tk.ran) != maxAdvanceSteps || !clock.Now().Equal(stopped) {
		t.Fatalf("ran %d times, clock at %s; want %d runs and the clock at %s", len(tk.ran), clock.Now(), maxAdvanceSteps, stopped)
	}
	want := fmt.Sprintf(":advance stopped after %d due moments at %s, short of %s", maxAdvanceSteps,
		bot.FormatTime(stopped, time.UTC), bot.FormatTime(t0.Add(7*24*time.Hour), time.UTC))
	if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "the clock is now") {
		t.Errorf("got %q, want only %q…", out.String(), want)
	}
}

func TestAdvanceWithNothingDue(t *testing.T) {
	var out bytes.Buffer
	tk := &fakeTicker{}
	s, clock, ms := newTestSession(t, tk, &out)
	tk.clock, tk.ms = clock, ms
	s.Line(context.Background(), ":advance 2h")
	if got, want := out.String(), "the clock is now 2026-11-22 12:00 UTC\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestClockAdvanceToNeverGoesBack(t *testing.T) {
	c := NewClock(func() time.Time { return t0 })
	c.AdvanceTo(t0.Add(time.Hour))
	c.AdvanceTo(t0.Add(time.Minute))
	if !c.Now().Equal(t0.Add(time.Hour)) {
		t.Fatalf("clock at %s", c.Now())
	}
}

// :ready and :debrief are the readiness buttons of the console; without
// what they need they say how they are typed, and change nothing.
func TestReadinessButtonUsage(t *testing.T) {
	var out bytes.Buffer
	s, _, _ := newTestSession(t, nil, &out)
	for line, want := range map[string]string{
		":ready":              "usage: :ready <UPG-id> <criterion number>",
		":ready UPG-1":        "usage: :ready <UPG-id> <criterion number>",
		":ready nope 1":       "usage: :ready <UPG-id> <criterion number>",
		":debrief UPG-1":      "usage: :debrief <UPG-id> <text...>",
		":debrief UPG-1   ":   "usage: :debrief <UPG-id> <text...>",
		":ready UPG-9 1":      "Unknown upgrade UPG-9.",
		":debrief UPG-9 fine": "Unknown upgrade UPG-9.",
	} {
		out.Reset()
		s.Line(context.Background(), line)
		if !strings.Contains(out.String(), want) {
			t.Errorf("%s: %q lacks %q", line, out.String(), want)
		}
	}
}
