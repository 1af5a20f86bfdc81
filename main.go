// Command upgradebot coordinates software upgrades across services from
// Slack, Discord or a terminal. This file only wires the parts together:
// configuration, store, core and adapters.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/upgradebot/upgradebot/adapters/console"
	githubadapter "github.com/upgradebot/upgradebot/adapters/github"
	"github.com/upgradebot/upgradebot/adapters/metrics"
	"github.com/upgradebot/upgradebot/adapters/web"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/config"
	"github.com/upgradebot/upgradebot/internal/outage"
	"github.com/upgradebot/upgradebot/internal/scrub"
	"github.com/upgradebot/upgradebot/store"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

//go:embed demo.toml
var demoConfig []byte

const usage = `upgradebot coordinates software upgrades across services.

Usage:
  upgradebot serve [-config FILE]         run the bot: HTTP server, adapters, scheduler
  upgradebot console [-config FILE] [-as PERSON]
                                          try it in a terminal (built-in demo without -config)
  upgradebot check-config [-config FILE]  validate a configuration and print every problem
  upgradebot webhooks [-config FILE]      each webhook's last success, last error and backlog
  upgradebot version                      print the version

For serve, check-config and webhooks, FILE defaults to config.toml in the
working directory (without it: the defaults and the environment); the console
runs its built-in demo unless -config names a file. Environment variables
UPGRADEBOT_<SECTION>_<KEY> override the file (see config.example.toml).
`

func main() {
	ctx, now, release := notifyStop(os.Interrupt, syscall.SIGTERM)
	code := run(ctx, now, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	release()
	os.Exit(code)
}

// notifyStop: the first of sigs to arrive cancels ctx, a graceful stop;
// the second closes now, to stop without waiting for what the first one
// lets finish. release stops listening.
func notifyStop(sigs ...os.Signal) (ctx context.Context, now <-chan struct{}, release func()) {
	c := make(chan os.Signal, 2)
	signal.Notify(c, sigs...)
	ctx, cancel := context.WithCancel(context.Background())
	stopNow, released := make(chan struct{}), make(chan struct{})
	go func() {
		select {
		case <-c:
			cancel()
		case <-released:
			return
		}
		select {
		case <-c:
			close(stopNow)
		case <-released:
		}
	}()
	return ctx, stopNow, func() { signal.Stop(c); close(released); cancel() }
}

// run is main without process globals, so tests can drive every
// subcommand: ctx ends at the first signal, now closes at the second (nil:
// never).
func run(ctx context.Context, now <-chan struct{}, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	sub, args := args[0], args[1:]
	// Each subcommand has its own flags: -as is the console's only.
	fs := flag.NewFlagSet("upgradebot "+sub, flag.ContinueOnError)
	// Parse's own words come unprefixed: it says nothing, and its error is
	// printed below as every other error of a subcommand is.
	fs.SetOutput(io.Discard)
	var cfgPath, as *string
	switch sub {
	case "console":
		cfgPath = fs.String("config", "", "configuration file (default: the built-in demo)")
		as = fs.String("as", "alice", "the person you type as")
	case "serve", "check-config", "webhooks":
		cfgPath = fs.String("config", "", "configuration file (default config.toml, else defaults and environment)")
	}
	switch sub {
	case "serve", "console", "check-config", "webhooks", "version":
		fs.Usage = func() {}
		usage := func() {
			fmt.Fprintf(stderr, "Usage: upgradebot %s\n", subUsage[sub])
			fs.SetOutput(stderr)
			fs.PrintDefaults()
		}
		if err := fs.Parse(args); err != nil {
			code := 0
			if !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stderr, "upgradebot %s: %v\n", sub, err)
				code = 2
			}
			usage()
			return code
		}
		if fs.NArg() > 0 {
			// upgradebot check-config config.toml: the file named without
			// its flag, said as a flag error is, with the command meant.
			fmt.Fprintf(stderr, "upgradebot %s: unexpected argument %q", sub, fs.Arg(0))
			if cfgPath != nil && *cfgPath == "" && fs.NArg() == 1 && strings.HasSuffix(strings.ToLower(fs.Arg(0)), ".toml") {
				// The command as typed, the flags given kept, the file
				// named with -config.
				cmd := []string{"upgradebot", sub}
				for _, a := range append(args[:len(args)-1:len(args)-1], "-config", fs.Arg(0)) {
					if a != "--" {
						cmd = append(cmd, shellQuote(a))
					}
				}
				fmt.Fprintf(stderr, "; to use it as the configuration, write: %s", strings.Join(cmd, " "))
			}
			fmt.Fprintln(stderr)
			usage()
			return 2
		}
		// -as "" is a mistake, as :as with no name is, not a stranger with
		// no name: said as a flag error is.
		if as != nil && strings.TrimSpace(*as) == "" {
			fmt.Fprintf(stderr, "upgradebot %s: -as needs a person's name or id\n", sub)
			usage()
			return 2
		}
	case "-version", "--version":
		fmt.Fprintln(stdout, "upgradebot", buildVersion())
		return 0
	case "help", "-h", "-help", "--help":
		// help SUBCOMMAND is that subcommand's -h.
		if len(args) > 0 && sub == "help" {
			if _, ok := subUsage[args[0]]; ok {
				return run(ctx, now, []string{args[0], "-h"}, stdin, stdout, stdout, environ)
			}
			fmt.Fprintf(stderr, "upgradebot help: unknown subcommand %q\n\n%s", args[0], usage)
			return 2
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "upgradebot: unknown subcommand %q\n\n%s", sub, usage)
		return 2
	}

	switch sub {
	case "version":
		fmt.Fprintln(stdout, "upgradebot", buildVersion())
		return 0
	case "check-config":
		return checkConfig(*cfgPath, stdout, stderr, environ)
	case "webhooks":
		return webhooksStatus(ctx, *cfgPath, stdout, stderr, environ)
	case "console":
		return runConsole(ctx, *cfgPath, *as, stdin, stdout, stderr, environ)
	default:
		log := slog.New(bot.LogHandler(slog.NewJSONHandler(stderr, nil)))
		if err := serve(ctx, now, *cfgPath, environ, log); err != nil {
			// A person reads a refused configuration: print it as lines, not
			// as one escaped JSON string only.
			var (
				pe problemsError
				fe configFileError
			)
			if errors.As(err, &pe) || errors.As(err, &fe) {
				printErr(stderr, "serve", err)
			}
			log.Error("upgradebot stopped", "err", err)
			return 1
		}
		return 0
	}
}

// subUsage is each subcommand's synopsis, as in usage.
var subUsage = map[string]string{
	"serve":        "serve [-config FILE]",
	"console":      "console [-config FILE] [-as PERSON]",
	"check-config": "check-config [-config FILE]",
	"webhooks":     "webhooks [-config FILE]",
	"version":      "version",
}

// stopBudget bounds how long a stopping serve takes: HTTP requests in flight
// (at most 8 s), adapters and scheduler finishing what they started, then
// queued notices with whatever is left.
const stopBudget = 25 * time.Second

// defaultConfigPath is read when -config is not given.
const defaultConfigPath = "config.toml"

// noFile names the configuration when no file was found.
const noFile = "(defaults and environment)"

// configSource picks the file to read. Without -config, a missing
// config.toml means "defaults plus environment", so a container can be
// configured by UPGRADEBOT_* variables alone.
func configSource(flagPath string) (path string, data []byte) {
	if flagPath != "" {
		return flagPath, nil
	}
	if _, err := os.Stat(defaultConfigPath); errors.Is(err, os.ErrNotExist) {
		return noFile, []byte{}
	}
	return defaultConfigPath, nil
}

// noFileNote says plainly that no file was read, so nobody believes their
// edits are in effect.
func noFileNote() string {
	where, _ := filepath.Abs(defaultConfigPath)
	return fmt.Sprintf("no configuration file: %s does not exist, so the defaults and UPGRADEBOT_* environment variables are in use; pass -config FILE to use a file", where)
}

// noPlatform is the warning of a configuration that enables no chat platform.
const noPlatform = "no chat platform is enabled: the bot answers nobody and posts nowhere; set slack.enabled (or discord.enabled) = true, and try `upgradebot console -config FILE` to see what it would post"

func buildVersion() string {
	if version != "" {
		return version
	}
	// A go build in a git checkout has Go's pseudo-version of the commit
	// (v0.0.0-20261130230852-2d0131e3fba5, +dirty with changes).
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// loadConfig reads and validates; problems come back in the file's order
// (config.Config.InFileOrder).
func loadConfig(path string, data []byte, environ []string) (config.Config, []config.Problem, error) {
	var (
		cfg      config.Config
		problems []config.Problem
		err      error
	)
	if data != nil {
		cfg, problems, err = config.LoadBytes(data, environ)
	} else {
		cfg, problems, err = config.Load(path, environ)
	}
	if err != nil {
		// config's error names the file (once); say what to do about a
		// -config that names no file.
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w; check the path given to -config", err)
		}
		return cfg, nil, configFileError{err}
	}
	// A value that could not be read is also invalid; say so once.
	seen := map[string]bool{}
	for _, p := range problems {
		seen[p.Path] = true
	}
	for _, p := range cfg.Validate() {
		if !seen[p.Path] {
			problems = append(problems, p)
		}
	}
	// Read top to bottom against the file.
	return cfg, cfg.InFileOrder(problems), nil
}

func checkConfig(flagPath string, stdout, stderr io.Writer, environ []string) int {
	path, data := configSource(flagPath)
	if path == noFile {
		fmt.Fprintf(stderr, "upgradebot check-config: note: %s\n", noFileNote())
	}
	cfg, problems, err := loadConfig(path, data, environ)
	if err != nil {
		printErr(stderr, "check-config", err) // it names the file (FILE:LINE: for a syntax error)
		return 1
	}
	if len(problems) > 0 {
		printErr(stderr, "check-config", problemsError{path, problems}) // as serve and the console say it
		return 1
	}
	// Warnings are of a file that is otherwise valid, as serve gives them:
	// an invalid one is to be fixed first (a wrong enabled = "yes" is its
	// problem, not a platform left off).
	if len(cfg.EnabledPlatforms()) == 0 {
		fmt.Fprintf(stderr, "upgradebot check-config: %s: warning: %s\n", path, noPlatform)
	}
	for _, w := range cfg.OffPlatformWarnings() {
		fmt.Fprintf(stderr, "upgradebot check-config: %s: warning: %s\n", path, w)
	}
	if w := cfg.GitHubWebhookWarning(); w != "" {
		fmt.Fprintf(stderr, "upgradebot check-config: %s: warning: %s\n", path, w)
	}
	for _, w := range cfg.SecretInFileWarnings() {
		fmt.Fprintf(stderr, "upgradebot check-config: %s: warning: %s\n", path, w)
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return 0
}

// botConfig maps the file's configuration onto what the core needs.
func botConfig(c config.Config) (bot.Config, error) {
	loc, err := time.LoadLocation(c.DefaultTimezone)
	if err != nil {
		return bot.Config{}, fmt.Errorf("default_timezone: %w", err)
	}
	bc := bot.Config{
		Admins: c.Admins, DefaultLocation: loc, MaxWindow: c.MaxWindow,
		DefaultDuration: c.Reminders.DefaultDuration, Reminders: c.Reminders.Before,
		EscalateAfter: c.Reminders.EscalateAfter, MaxLead: c.MaxLead, EarlyStart: c.EarlyStart,
	}
	// The Enterprise server whose release pages link reads, besides
	// github.com's: the host of github.api_url's pages.
	bc.ReleaseHost = githubadapter.WebHost(c.GitHub.APIURL)
	if c.API.Public && c.Server.PublicURL != "" {
		// The upgrades' pages, linked where a long show is cut: only
		// when whoever reads the link may open them without a token.
		bc.UpgradePage = web.UpgradePage(c.Server.PublicURL)
	}
	for i, p := range c.People {
		person := bot.Person{Name: p.Name, IDs: p.IDs}
		if p.Timezone != "" {
			if person.Location, err = time.LoadLocation(p.Timezone); err != nil {
				return bot.Config{}, fmt.Errorf("people[%d].timezone: %w", i, err)
			}
		}
		bc.People = append(bc.People, person)
	}
	for _, s := range c.Services {
		bc.Services = append(bc.Services, bot.Service{Name: s.Name, Owners: s.Owners, Channels: s.Channels, DependsOn: s.DependsOn, Repo: s.Repo,
			Readiness: c.ReadinessOf(s)})
		bc.Groups = append(bc.Groups, groupIDs(s.Owners)...)
	}
	bc.Groups = append(bc.Groups, groupIDs(c.Admins)...)
	if err := windowsConfig(c, &bc); err != nil {
		return bot.Config{}, err
	}
	return bc, nil
}

// onlyEnabledChannels drops from each service the channels of platforms
// serve does not run, so that its upgrades neither announce nor record as
// failed a post that cannot happen; a service left without channels posts
// where the command was typed. The console keeps them all: it is the dry
// run of every platform.
func onlyEnabledChannels(bc *bot.Config, platforms []string) {
	for i, s := range bc.Services {
		var keep []string
		for _, ch := range s.Channels {
			if config.OnPlatform(ch, platforms) {
				keep = append(keep, ch)
			}
		}
		bc.Services[i].Channels = keep
	}
}

// groupIDs picks the entries that name a group or role (Slack user groups,
// Discord roles), as the configuration's id grammar says.
func groupIDs(entries []string) []string {
	var out []string
	for _, e := range entries {
		if id, err := config.ParseID(e); err == nil && (id.Kind == config.KindGroup || id.Kind == config.KindRole) {
			out = append(out, e)
		}
	}
	return out
}

// storeOptions maps the [redis] section; lazy lets serve start before Redis
// answers (readiness says so) where the console would rather fail at once.
func storeOptions(c config.Config, lazy bool) store.Options {
	return store.Options{URL: c.Redis.URL, ClusterAddrs: c.Redis.ClusterAddrs, Prefix: c.Redis.Prefix, Retention: c.Retention, Lazy: lazy}
}

// configFileError is a configuration file that cannot be read or is not
// valid TOML; its text names the file.
type configFileError struct{ error }

func (e configFileError) Unwrap() error { return e.error }

// problemsError is an invalid configuration: a line that says so, then
// every problem on a line of its own, as compilers write theirs so that an
// editor can jump to the key: "FILE:LINE: path: msg", or "FILE: path: msg"
// for a problem the file does not place (config.Problem.Line).
type problemsError struct {
	file string // "" for the console's built-in configuration
	ps   []config.Problem
}

func (e problemsError) Error() string {
	var b strings.Builder
	if e.file != "" {
		b.WriteString(e.file + ": ")
	}
	fmt.Fprintf(&b, "invalid configuration, %d problem(s):", len(e.ps))
	for _, p := range e.ps {
		b.WriteString("\n")
		switch {
		case e.file != "" && p.Line > 0:
			fmt.Fprintf(&b, "%s:%d: ", e.file, p.Line)
		case e.file != "":
			b.WriteString(e.file + ": ")
		case p.Line > 0:
			fmt.Fprintf(&b, "line %d: ", p.Line) // as a config.SyntaxError without a file
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// printErr writes a configuration's error to w, every line of it after
// "upgradebot SUB: ", so that each problem's line starts with the
// subcommand and its place, "upgradebot check-config: FILE:LINE: ...".
func printErr(w io.Writer, sub string, err error) {
	for line := range strings.Lines(err.Error()) {
		fmt.Fprintf(w, "upgradebot %s: %s", sub, strings.TrimSuffix(line, "\n")+"\n")
	}
}

func runConsole(ctx context.Context, path, person string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	var data []byte
	if path == "" {
		data = demoConfig
	}
	cfg, problems, err := loadConfig(path, data, environ)
	// The console posts nowhere: the platforms' tokens and the webhooks'
	// secrets, often in serve's environment only, are not needed here.
	problems = config.WithoutServeOnly(problems)
	if err == nil && len(problems) > 0 {
		err = problemsError{path, problems} // as serve and check-config say it
	}
	if err != nil {
		printErr(stderr, "console", err)
		return 1
	}
	interactive := isTerminal(stdin)
	// Line editing needs the terminal on both ends: in raw mode the terminal
	// no longer echoes what is typed; the line editor does, on stdout.
	editing := interactive && isTerminal(stdout)
	if editing && isTerminal(stderr) {
		stderr = console.CRLF(stderr) // raw mode: no \n to \r\n in the terminal
	}
	log := slog.New(console.Quiet(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	st, err := store.Open(ctx, storeOptions(cfg, false), log)
	if err != nil {
		// The dry run of a copied config.example.toml meets a Redis that is
		// not there: say how to try it without one.
		fmt.Fprintf(stderr, "upgradebot console: %v\nupgradebot console: %s\n", err, consoleNoRedisHint)
		return 1
	}
	defer st.Close()
	bc, err := botConfig(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "upgradebot console: %v\n", err)
		return 1
	}
	clock := console.NewClock(consoleBaseTime(environ))
	// The console stands in for every platform: its Messenger takes the
	// channels and people of all of them, so a real configuration can be
	// dry-run before going live.
	ms := console.NewMessenger(bc.DefaultLocation, bot.NewDirectory(bc))
	consoleHints(cfg, ms)
	var ticker console.Ticker
	// Notices are delivered at each Flush, after what the command or job
	// sent itself, so that a transcript reads the same every time.
	// One worker: the jobs that fall due at one moment run one after the
	// other in due order (ties in the queue's order), so :advance prints
	// them in the same order every time.
	b := bot.New(bot.Options{Config: bc, Store: st, Messenger: ms, Queue: st,
		Now: clock.Now, Logger: log, RefreshIntervalSet: true, DeliverOnFlush: true,
		Scheduler: bot.SchedulerOptions{Workers: 1}})
	if st.Embedded() {
		ticker = b.Scheduler()
	} else {
		// A store a serve may share: commands change the real upgrades, but
		// what the console shows as posted exists only here, and :advance
		// would take real reminders due now away from the platforms.
		ms.Shared()
		fmt.Fprintln(stderr, sharedConsoleNote)
	}
	sess := console.NewSession(console.Options{Bot: b, Messenger: ms, Clock: clock, Ticker: ticker,
		Person: person, Location: bc.DefaultLocation, Out: stdout, Echo: !interactive, Prompt: interactive && !editing})
	if interactive {
		where := "an embedded Redis (nothing is kept)"
		if !st.Embedded() {
			where = "Redis"
		}
		fmt.Fprintf(stdout, "upgradebot console: you are %s; state lives in %s. Type :help or /upgrade help.\n", person, where)
	}
	sess.NoteStranger() // -as nobody is told what :as nobody is told
	if editing {
		// Line editing and history; raw mode is restored however it ends.
		err = sess.RunTTY(ctx, stdin.(*os.File), stdout.(*os.File))
	} else {
		err = sess.Run(ctx, stdin)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "upgradebot console: %v\n", err)
		return 1
	}
	return 0
}

// migrateKeys moves the keys that earlier versions kept outside
// redis.prefix to their names under it (store.MigrateKeys): at once, and
// while Redis does not answer again after 1 s, doubling to 30 s.
func migrateKeys(ctx context.Context, st *store.Store, log *slog.Logger) {
	wait := time.Second
	for {
		err := st.MigrateKeys(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		log.Warn("redis: cannot move old keys to their new names yet; retrying", "err", err, "in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// sharedConsoleNote is what the console says on a real Redis.
const sharedConsoleNote = "note: the console is on a real Redis (redis.url is not memory://): commands change the upgrades every serve on it sees, " +
	"but nothing is posted to Slack or Discord; upgrades scheduled here get console-only threads (serve reports them as unreachable), " +
	"and :advance is off so that reminders due now stay with serve. For a dry run, use redis.url = \"memory://\"."

// shellQuote writes a for a POSIX shell: as it is when it holds nothing the
// shell reads, else in single quotes.
func shellQuote(a string) string {
	if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+-,") == "" {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// consoleNoRedisHint follows a console's failure to open its Redis: an
// embedded one cannot be unreachable, so the configuration names a real one.
const consoleNoRedisHint = "For a dry run without a Redis, set redis.url = \"memory://\" (or UPGRADEBOT_REDIS_URL=memory://): an embedded one that keeps nothing."

// consoleBaseTime lets golden tests pin the console's clock with
// UPGRADEBOT_CONSOLE_NOW (RFC 3339); otherwise it is the real time.
func consoleBaseTime(environ []string) func() time.Time {
	for _, kv := range environ {
		if v, ok := cutPrefix(kv, "UPGRADEBOT_CONSOLE_NOW="); ok {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				return func() time.Time { return t }
			}
		}
	}
	return time.Now
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// outageEvery is the least time between two of serve's reminders that
// Redis is still down; outageSettle how long Redis must go without a
// failed call before serve logs that it answers again (a Cluster with
// slots not served answers between failures); outageObserve, when set,
// hears the outage tracker's events (tests).
var (
	outageEvery   = outage.DefaultEvery
	outageSettle  = 5 * time.Second
	outageObserve func(outage.Event)
)

// prepareBound is how long serve waits for the webhooks' consumer groups
// before it listens; past it, delivery creates them later.
const prepareBound = 2 * time.Second

// errStoppedNow is serve's end at a second signal, before its drain was over.
var errStoppedNow = errors.New("stopped at a second signal before the drain was over")

// serve runs until ctx ends (the first signal), then stops gracefully
// within stopBudget, unless now closes first (the second signal): then it
// returns errStoppedNow at once, leaving the rest of the drain undone.
func serve(ctx context.Context, now <-chan struct{}, flagPath string, environ []string, log *slog.Logger) error {
	path, data := configSource(flagPath)
	cfg, problems, err := loadConfig(path, data, environ)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return problemsError{path, problems}
	}
	bc, err := botConfig(cfg)
	if err != nil {
		return err
	}
	if path == noFile {
		log.Warn(noFileNote())
	} else {
		log.Info("configuration loaded", "source", path)
	}
	if len(cfg.EnabledPlatforms()) == 0 {
		log.Warn(noPlatform)
	}
	for _, w := range cfg.OffPlatformWarnings() {
		log.Warn(w)
	}
	for _, w := range cfg.SecretInFileWarnings() {
		log.Warn(w)
	}
	onlyEnabledChannels(&bc, cfg.EnabledPlatforms())
	// While Redis does not answer, one warning says so, a reminder at most
	// every outageEvery sums up what failed, and a line says when it answers
	// again; the background loops' failures for that cause are held back
	// rather than logged on every retry.
	// Secrets never reach the log, even in an error a server echoed back.
	log = slog.New(scrub.Handler(log.Handler(), cfg.Secrets()))
	redisDown := outage.New(outage.Options{Name: "redis", Log: log, Classify: store.Unreachable, Every: outageEvery, Settle: outageSettle, Observe: outageObserve})
	log = slog.New(redisDown.Handler(log.Handler()))
	so := storeOptions(cfg, true)
	so.Outage = redisDown
	st, err := store.Open(ctx, so, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// A thread kept in a console channel (an upgrade made by the console on
	// this store) is no failure of a platform: say so where it shows.
	router := bot.Router{console.Platform: bot.Unserved("console threads are only shown by the console")}
	releases, err := githubReleases(cfg, log)
	if err != nil {
		return err
	}
	met := metrics.New()
	met.Zero(metricSeries(cfg))
	// Nor anything else people read: failures kept on upgrades (show, the
	// API, the page), what the invoker is told, and /readyz.
	redact := scrub.Text(cfg.Secrets())
	b := bot.New(bot.Options{Config: bc, Store: st, Messenger: router, Queue: st, Once: st, Releases: releases, Logger: log, Observer: met, Redact: redact})
	met.WatchStore(metrics.Store{Upgrades: b, Backlog: b.Scheduler(), Logger: log})

	mux := http.NewServeMux()
	health := &web.Health{Checks: []web.Check{{Name: "redis", Func: st.Ping}}, Redact: redact}
	adapters, err := buildAdapters(cfg, bc, b, st, router, mux, health, met, log)
	if err != nil {
		return err
	}
	adapters = append(adapters, githubWebhook(cfg, b, st, mux, log))
	health.Routes(mux)
	mux.Handle("GET /metrics", met.Handler())
	// The status surface: API, live events, service status, calendar, feed and page.
	surface := web.New(web.Options{Core: b, Tokens: cfg.API.Tokens, Public: cfg.API.Public, PublicURL: cfg.Server.PublicURL, Events: st, Logger: log})
	surface.Routes(mux)
	// Outbound webhooks: their consumer groups exist before any command
	// runs, so no event recorded from now on is missed. Without Redis yet,
	// serve starts anyway (not ready) and delivery creates them once Redis
	// answers, from the events recorded since this moment (less
	// webhook.ClockMargin). The store already waited for Redis once: when
	// it got no answer, the groups are not tried before listening, and
	// otherwise not for longer than prepareBound.
	if len(cfg.Webhooks) > 0 {
		hooks := webhooks(cfg, st, met, log)
		if st.Unanswered() {
			hooks.Postpone()
			log.Warn("webhook delivery waits for Redis; retrying", "err", "redis did not answer at start")
		} else {
			pctx, cancel := context.WithTimeout(ctx, prepareBound)
			err := hooks.Prepare(pctx)
			cancel()
			if err != nil {
				log.Warn("webhook delivery waits for Redis; retrying", "err", err)
			}
		}
		adapters = append(adapters, hooks.Run)
	}

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Listen, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	srv.RegisterOnShutdown(surface.Close)
	// runCtx stops the scheduler and adapters when serve returns, whatever the reason.
	runCtx, stopRuns := context.WithCancel(ctx)
	defer stopRuns()
	errc := make(chan error, 2+len(adapters))
	var runs sync.WaitGroup
	go func() { errc <- srv.Serve(ln) }()
	runs.Add(1)
	go func() { defer runs.Done(); migrateKeys(runCtx, st, log) }()
	for _, run := range append([]func(context.Context) error{b.Run}, adapters...) {
		runs.Add(1)
		go func() { defer runs.Done(); errc <- run(runCtx) }()
	}
	log.Info("upgradebot serving", "listen", ln.Addr().String(), "version", buildVersion(), "services", len(bc.Services))

	select {
	case <-ctx.Done():
		log.Info("upgradebot stopping: finishing the requests and notices under way (a second signal stops at once)", "within", stopBudget.String())
	case err = <-errc:
		if errors.Is(err, http.ErrServerClosed) || errors.Is(err, context.Canceled) {
			err = nil
		}
	}
	// Everything below shares one budget that fits an orchestrator's
	// grace period (Kubernetes: 30 s between SIGTERM and SIGKILL); a second
	// signal ends it at once.
	began := time.Now()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		stopBy := began.Add(stopBudget)
		shutdown, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		stopRuns()
		runs.Wait() // adapters finish answering what they already accepted
		// Notices of commands already answered are delivered before exiting,
		// with what is left of the budget, and never less than a moment.
		if least := time.Now().Add(time.Second); stopBy.Before(least) {
			stopBy = least
		}
		drain, cancelDrain := context.WithDeadline(context.Background(), stopBy)
		defer cancelDrain()
		b.Drain(drain)
	}()
	select {
	case <-drained:
	case <-now:
		// What the drain had not done is left to the next start or another
		// replica (notices from their records in Redis, claimed jobs after
		// their lease), as after a kill.
		log.Warn("upgradebot stopping now: a second signal cut the drain short", "after", time.Since(began).Round(time.Millisecond).String())
		return errors.Join(err, errStoppedNow)
	}
	log.Info("upgradebot stopped")
	return err
}
