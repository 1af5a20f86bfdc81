package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/config"
	"github.com/upgradebot/upgradebot/store"
)

// webhooksStatus is the webhooks subcommand: each [[webhooks]] endpoint's
// delivery state as the store keeps it (all replicas share it): its last
// success, its last error, what is waiting, the events given up on, and
// those lost (trimmed off the capped event stream before delivery).
func webhooksStatus(ctx context.Context, flagPath string, stdout, stderr io.Writer, environ []string) int {
	path, data := configSource(flagPath)
	cfg, problems, err := loadConfig(path, data, environ)
	if err != nil {
		printErr(stderr, "webhooks", err) // it names the file
		return 1
	}
	// Only Redis is read: the platforms' tokens and the webhooks' secrets,
	// often in serve's environment only, are not needed here.
	if problems = config.WithoutServeOnly(problems); len(problems) > 0 {
		printErr(stderr, "webhooks", problemsError{path, problems})
		return 1
	}
	if len(cfg.Webhooks) == 0 {
		fmt.Fprintf(stdout, "No [[webhooks]] are configured in %s.\n", path)
		return 0
	}
	quiet := slog.New(slog.DiscardHandler)
	st, err := store.Open(ctx, storeOptions(cfg, false), quiet)
	if err != nil {
		fmt.Fprintf(stderr, "upgradebot webhooks: %v\n", err)
		return 1
	}
	defer st.Close()
	if st.Embedded() {
		fmt.Fprintln(stderr, "upgradebot webhooks: note: redis.url is memory://: this process has its own empty store, so nothing below comes from a running serve")
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	statuses, err := webhooks(cfg, st, nil, quiet).Status(qctx, 5)
	if err != nil {
		fmt.Fprintf(stderr, "upgradebot webhooks: %v\n", err)
		return 1
	}
	now := time.Now()
	for i, s := range statuses {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s (endpoint %s)\n", s.Endpoint.Shown(), s.Endpoint.ID())
		events := "all"
		if len(s.Endpoint.Events) > 0 {
			events = strings.Join(s.Endpoint.Events, ", ")
		}
		fmt.Fprintf(stdout, "  events:        %s\n", events)
		fmt.Fprintf(stdout, "  last success:  %s\n", when(s.LastSuccess, now))
		if s.LastError == "" {
			fmt.Fprintf(stdout, "  last error:    none\n")
		} else {
			fmt.Fprintf(stdout, "  last error:    %s: %s\n", when(s.LastErrorAt, now), s.LastError)
		}
		fmt.Fprintf(stdout, "  backlog:       %d event(s) waiting\n", s.Backlog)
		fmt.Fprintf(stdout, "  delivered:     %d    failed attempts: %d    given up: %d    lost: %d\n", s.Delivered, s.FailedAttempts, s.Failed, s.Lost)
		if l := s.LastLoss; !l.At.IsZero() {
			fmt.Fprintf(stdout, "  lost %s: %s\n", when(l.At, now), lossText(l))
		}
		for _, f := range s.Recent {
			fmt.Fprintf(stdout, "  given up %s: %s %s (event %s): %s\n", when(f.At, now), f.UpgradeID, f.Type, f.EventID, f.Error)
		}
	}
	return 0
}

// lossText words a loss of events trimmed off the stream for the subcommand.
func lossText(l bot.StreamLoss) string {
	n := fmt.Sprintf("%d event(s)", l.Count)
	if !l.Exact {
		n = "at least " + n
	}
	between := ""
	switch {
	case l.After != "" && l.Before != "":
		between = " recorded between " + posWhen(l.After) + " and " + posWhen(l.Before)
	case l.Before != "":
		between = " recorded before " + posWhen(l.Before)
	}
	return n + between + " were trimmed off the event stream before delivery (the endpoint fell further behind than the stream keeps; docs/events.md)"
}

// posWhen words a stream position: its time and the position itself.
func posWhen(pos string) string {
	ms, _, _ := strings.Cut(pos, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return pos
	}
	return time.UnixMilli(n).UTC().Format("2006-01-02 15:04:05 UTC") + " (" + pos + ")"
}

// when words a moment for the subcommand: UTC and how long ago.
func when(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + now.Sub(t).Round(time.Second).String() + " ago)"
}
