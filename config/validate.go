package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/hostport"

	_ "time/tzdata" // zones must validate (and later resolve) the same on hosts without a zoneinfo database
)

var (
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	commandRe = regexp.MustCompile(`^/[a-z0-9_-]{1,31}$`)
	repoRe    = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$`)
	hexKeyRe  = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	// A Discord bot token is three base64url parts joined by dots.
	discordTokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
)

// Validate checks the configuration as a whole and returns every problem found, in key order.
// Messages never contain token, secret or URL values.
func (c Config) Validate() []Problem {
	v := &validator{people: map[string]int{}, services: map[string]int{}}
	v.indexNames(c)

	if c.DefaultTimezone == "" {
		v.add("default_timezone", "required (an IANA zone such as \"UTC\" or \"Europe/Berlin\")")
	} else if c.DefaultTimezone == "Local" {
		v.add("default_timezone", `must be an IANA zone such as "UTC" or "Europe/Berlin", not "Local"`)
	} else if _, err := time.LoadLocation(c.DefaultTimezone); err != nil {
		v.add("default_timezone", "unknown time zone %q", c.DefaultTimezone)
	}
	for i, a := range c.Admins {
		v.ref("admins", i, a)
	}
	v.positive("max_window", c.MaxWindow)
	v.positive("retention", c.Retention)
	v.positive("max_lead", c.MaxLead)
	if c.EarlyStart < 0 {
		v.add("early_start", "must not be negative (0 means: not before the window opens)")
	}

	v.server(c.Server)
	v.redis(c.Redis)
	v.slack(c.Slack)
	v.discord(c.Discord)
	if c.GitHub.APIURL != "" {
		v.absURL("github.api_url", c.GitHub.APIURL)
	}
	v.reminders(c.Reminders, c.MaxWindow)
	for i, t := range c.API.Tokens {
		if strings.TrimSpace(t) == "" {
			v.addEntry("api.tokens", i, "entry %d is empty", i+1)
		}
	}
	for i, w := range c.Webhooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		if w.URL == "" {
			v.add(p+".url", "required")
		} else {
			v.absURL(p+".url", w.URL)
		}
		if w.Secret == "" {
			v.missing(p+".secret", "required: deliveries are signed (or set %s_WEBHOOKS_%d_SECRET)", EnvPrefix, i)
		}
		for j, e := range w.Events {
			if !slices.Contains(bot.EventTypes, e) {
				v.addEntry(p+".events", j, "unknown event type %q; known: %s", e, strings.Join(bot.EventTypes, ", "))
			}
		}
	}
	v.peopleAndServices(c)
	v.windows(c)
	v.readiness("readiness", c.Readiness)
	for i, s := range c.Services {
		v.readiness(fmt.Sprintf("services[%d].readiness", i), s.Readiness)
	}
	return c.blameEnv(v.problems)
}

type validator struct {
	problems []Problem
	people   map[string]int // person name -> index of its first entry
	services map[string]int // service name -> index of its first entry
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, problemf(path, format, args...))
}

// addEntry adds a problem of the list at path about its entry i (placed at
// the entry's line, see Problem.entry).
func (v *validator) addEntry(path string, i int, format string, args ...any) {
	p := problemf(path, format, args...)
	p.entry = i + 1
	v.problems = append(v.problems, p)
}

// missing adds the problem of a value only serve needs (see Problem.ServeOnly).
func (v *validator) missing(path, format string, args ...any) {
	p := problemf(path, format, args...)
	p.ServeOnly = true
	v.problems = append(v.problems, p)
}

func (v *validator) indexNames(c Config) {
	for i, p := range c.People {
		if _, ok := v.people[p.Name]; !ok && p.Name != "" {
			v.people[p.Name] = i
		}
	}
	for i, s := range c.Services {
		if _, ok := v.services[s.Name]; !ok && s.Name != "" {
			v.services[s.Name] = i
		}
	}
}

func (v *validator) positive(path string, d time.Duration) {
	if d <= 0 {
		v.add(path, "must be greater than 0")
	}
}

// absURL reports a value that is not an absolute http(s) URL, without echoing it (it may embed a secret).
func (v *validator) absURL(path, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(path, "must be an absolute http:// or https:// URL")
	}
}

func (v *validator) server(s Server) {
	if s.Listen == "" {
		v.add("server.listen", `required (host:port, e.g. "127.0.0.1:8080")`)
	} else if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		v.add("server.listen", `must be host:port, e.g. "127.0.0.1:8080" or ":8080"`)
	} else if _, err := net.LookupPort("tcp", port); err != nil {
		v.add("server.listen", `the port %q is not a port (0 to 65535), e.g. "127.0.0.1:8080"`, port)
	}
	if s.PublicURL != "" {
		v.absURL("server.public_url", s.PublicURL)
	}
}

// defaultRedisPort is the port of a redis.cluster_addrs node written
// without one ("10.0.0.1"): Redis's own default.
const defaultRedisPort = "6379"

func (v *validator) redis(r Redis) {
	switch {
	case r.URL != "" && len(r.ClusterAddrs) > 0:
		v.add("redis.url", "must be empty when redis.cluster_addrs is set (use one or the other)")
	case r.URL == "" && len(r.ClusterAddrs) == 0:
		v.add("redis.url", "required (or set redis.cluster_addrs)")
	case r.URL != "":
		// Each Sentinel may omit its port (26379), which url.Parse allows
		// of one host only: the hosts are checked one by one, and named.
		raw, hosts, misplaced := splitHosts(r.URL)
		if misplaced {
			// Quote nothing: the "host" or "database" is part of a password.
			v.add("redis.url", "not a valid URL: a /, ? or # in the user or password must be written %%2F, %%3F or %%23")
			break
		}
		u, err := url.Parse(raw)
		if err != nil {
			v.add("redis.url", "not a valid URL")
			break
		}
		switch u.Scheme {
		case "redis", "rediss", "redis+sentinel":
			v.redisHosts(u.Scheme, hosts)
			if db := strings.Trim(u.Path, "/"); u.Scheme != "redis+sentinel" && db != "" {
				if n, err := strconv.Atoi(db); err != nil || n < 0 {
					v.add("redis.url", "the database %q is not a number, e.g. redis://127.0.0.1:6379/0", db)
				}
			}
			if ps := u.Query().Get("pool_size"); ps != "" {
				if n, err := strconv.Atoi(ps); err != nil || n < 1 {
					v.add("redis.url", "pool_size %q must be a whole number of connections, 1 or more", ps)
				}
			}
			v.redisQuery(u)
		case "unix":
			if u.Path == "" {
				v.add("redis.url", "must name a socket path, e.g. unix:///run/redis.sock")
			}
			if ps := u.Query().Get("pool_size"); ps != "" {
				if n, err := strconv.Atoi(ps); err != nil || n < 1 {
					v.add("redis.url", "pool_size %q must be a whole number of connections, 1 or more", ps)
				}
			}
			v.redisQuery(u)
		case "memory":
		default:
			v.add("redis.url", "scheme must be redis://, rediss://, redis+sentinel://, unix:// or memory://")
		}
	}
	for i, a := range r.ClusterAddrs {
		// A node without a port is on Redis's default, 6379, as the store
		// dials it (and a Sentinel without one on 26379). An IPv6 address
		// needs its brackets, which may hold a zone ([fe80::1%eth0]:7000).
		if hint := hostport.Unbracketed(a, defaultRedisPort); hint != "" {
			v.add(fmt.Sprintf("redis.cluster_addrs[%d]", i), "%s", hint)
		} else if h, p, err := net.SplitHostPort(hostport.WithPort(a, defaultRedisPort)); err != nil || a == "" || !dialHost(a, h) {
			v.add(fmt.Sprintf("redis.cluster_addrs[%d]", i), "must be host[:port] (the port defaults to "+defaultRedisPort+"), e.g. 10.0.0.1:7000 or 10.0.0.1")
		} else if !isPort(p) {
			v.add(fmt.Sprintf("redis.cluster_addrs[%d]", i), "the port %q is not a port (1 to 65535), e.g. 10.0.0.1:7000", p)
		}
	}
	if r.Prefix == "" {
		v.add("redis.prefix", "required")
	} else if strings.ContainsFunc(r.Prefix, isSpace) {
		v.add("redis.prefix", "must not contain spaces")
	} else if strings.ContainsAny(r.Prefix, "{}") {
		v.add("redis.prefix", "must not contain { or }: the keys carry their own hash tags for Redis Cluster")
	}
}

// dialHost reports whether h, the host of the address a as the store dials
// it, is a host name or IP address with nothing else, or an IPv6 address
// in brackets with its zone ([fe80::1%eth0]).
func dialHost(a, h string) bool {
	return plainHost(h) || strings.HasPrefix(a, "[") && hostport.IPv6(h)
}

// redisHosts checks the hosts of a redis://, rediss:// (one) or
// redis+sentinel:// URL (several, each may omit its port), naming a bad one.
// The Sentinels are read as the store dials them, as redis.cluster_addrs
// nodes are (an IPv6 address in brackets, which may hold a zone); the
// host of another URL as go-redis parses it.
func (v *validator) redisHosts(scheme string, hosts []string) {
	example := "redis://127.0.0.1:6379/0"
	if scheme == "redis+sentinel" {
		example = "redis+sentinel://10.0.0.1:26379,10.0.0.2/mymaster"
	}
	if len(hosts) == 0 || len(hosts) == 1 && hosts[0] == "" {
		v.add("redis.url", "must name a host, e.g. %s", example)
		return
	}
	if len(hosts) > 1 && scheme != "redis+sentinel" {
		v.add("redis.url", "names %d hosts: a %s:// URL takes one (Sentinels go in a redis+sentinel:// URL, a Cluster's nodes in redis.cluster_addrs)", len(hosts), scheme)
		return
	}
	for _, h := range hosts {
		if h == "" {
			continue // "a,,b": the store skips it too
		}
		if scheme == "redis+sentinel" {
			const sentinelPort = "26379"
			if hint := hostport.Unbracketed(h, sentinelPort); hint != "" {
				v.add("redis.url", "%s, e.g. %s", hint, example)
			} else if host, p, err := net.SplitHostPort(hostport.WithPort(h, sentinelPort)); err != nil || !dialHost(h, host) || strings.Trim(p, "0123456789") != "" {
				v.add("redis.url", "the host %q is not host[:port], e.g. %s", h, example)
			} else if !isPort(p) {
				v.add("redis.url", "the port %q is not a port (1 to 65535) in the host %q, e.g. %s", p, h, example)
			}
			continue
		}
		hu, err := url.Parse("redis://" + h)
		switch {
		case err != nil || hu.Host != h || hu.Hostname() == "":
			v.add("redis.url", "the host %q is not host[:port], e.g. %s", h, example)
		case hu.Port() != "" && !isPort(hu.Port()):
			v.add("redis.url", "the port %q is not a port (1 to 65535) in the host %q, e.g. %s", hu.Port(), h, example)
		}
	}
}

// splitHosts takes the host list out of a redis://, rediss:// or
// redis+sentinel:// URL (url.Parse cannot read a list where a host other
// than the last omits its port), reading it as url.Parse and the store do:
// the authority ends at the first /, ? or #, the user part at its last @.
// It returns the URL with one placeholder host, for the rest to be
// parsed, and the hosts; another URL comes back as it is. misplaced says
// that an @ follows an authority without one, outside a query's values:
// a password holding a / ? or #, whose parts would pass for a host, a
// database or a query parameter, and must not be quoted.
func splitHosts(raw string) (_ string, hosts []string, misplaced bool) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || scheme != "redis" && scheme != "rediss" && scheme != "redis+sentinel" {
		return raw, nil, false
	}
	end := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	authority, tail := rest[:end], rest[end:]
	user, hostList := "", authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, hostList = authority[:at+1], authority[at+1:]
	} else {
		path, query, _ := strings.Cut(tail, "?")
		query, fragment, _ := strings.Cut(query, "#")
		misplaced = strings.Contains(path, "@") || strings.Contains(fragment, "@")
		for kv := range strings.SplitSeq(query, "&") {
			k, _, _ := strings.Cut(kv, "=")
			misplaced = misplaced || strings.Contains(k, "@")
		}
	}
	if hostList == "" {
		return raw, nil, misplaced
	}
	return scheme + "://" + user + "placeholder" + tail, strings.Split(hostList, ","), misplaced
}

// redisQuery refuses the query parameters serve would refuse (go-redis's
// URL options; for Sentinel, only its own), so check-config says it first.
func (v *validator) redisQuery(u *url.URL) {
	if u.Scheme == "redis+sentinel" {
		for k := range u.Query() {
			switch k {
			case "sentinel_username", "sentinel_password", "pool_size":
			default:
				v.add("redis.url", "unknown query parameter %q: a redis+sentinel:// URL takes only sentinel_username, sentinel_password and pool_size", k)
			}
		}
		return
	}
	if u.RawQuery == "" {
		return
	}
	q := u.Query()
	q.Del("pool_size") // checked above, in words of its own
	c := *u
	c.RawQuery = q.Encode()
	if _, err := redis.ParseURL(c.String()); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, which may hold a password
		}
		v.add("redis.url", "%s", strings.TrimPrefix(err.Error(), "redis: "))
	}
}

func (v *validator) slack(s Slack) {
	modeOK := s.Mode == "socket" || s.Mode == "http"
	if !modeOK {
		v.add("slack.mode", `must be "socket" or "http"`)
	}
	if s.Enabled && s.BotToken == "" {
		v.missing("slack.bot_token", "required when slack.enabled = true")
	} else if s.BotToken != "" && !strings.HasPrefix(s.BotToken, "xoxb-") {
		v.add("slack.bot_token", "must be a bot token (xoxb-...)")
	}
	if s.Enabled && s.Mode == "socket" && s.AppToken == "" {
		v.missing("slack.app_token", "required in socket mode (xapp-...)")
	} else if s.AppToken != "" && !strings.HasPrefix(s.AppToken, "xapp-") {
		v.add("slack.app_token", "must be an app-level token (xapp-...)")
	}
	if s.Enabled && s.Mode == "http" && s.SigningSecret == "" {
		v.missing("slack.signing_secret", "required in http mode")
	}
	if s.APIURL != "" {
		v.absURL("slack.api_url", s.APIURL)
	}
	if s.Command == "" {
		if s.Enabled {
			v.add("slack.command", `required (e.g. "/upgrade")`)
		}
	} else if !commandRe.MatchString(s.Command) {
		v.add("slack.command", `must be a slash command like "/upgrade" (lower case, at most 32 characters)`)
	}
}

func (v *validator) discord(d Discord) {
	if d.Mode != "gateway" && d.Mode != "http" {
		v.add("discord.mode", `must be "gateway" or "http"`)
	}
	switch {
	case d.Enabled && d.BotToken == "":
		v.missing("discord.bot_token", "required when discord.enabled = true")
	case strings.HasPrefix(d.BotToken, "Bot "):
		v.add("discord.bot_token", `leave out the "Bot " prefix: upgradebot adds it`)
	case d.BotToken != "" && !discordTokenRe.MatchString(d.BotToken):
		v.add("discord.bot_token", "does not look like a Discord bot token (three parts joined by dots, from the Bot page of the developer portal)")
	}
	if d.Enabled && d.ApplicationID == "" {
		v.missing("discord.application_id", "required when discord.enabled = true")
	} else if d.ApplicationID != "" && !isSnowflake(d.ApplicationID) {
		v.add("discord.application_id", "must be a snowflake (digits)")
	}
	if d.Enabled && d.Mode == "http" && d.PublicKey == "" {
		v.missing("discord.public_key", "required in http mode (64 hex characters from the developer portal)")
	} else if d.PublicKey != "" && !hexKeyRe.MatchString(d.PublicKey) {
		v.add("discord.public_key", "must be 64 hex characters (the application's 32-byte Ed25519 public key)")
	}
	for i, g := range d.GuildIDs {
		if !isSnowflake(g) {
			v.add(fmt.Sprintf("discord.guild_ids[%d]", i), "%s is not a snowflake (digits)", quoteSafe(g))
		}
	}
	if d.APIURL != "" {
		v.absURL("discord.api_url", d.APIURL)
	}
}

func (v *validator) reminders(r Reminders, maxWindow time.Duration) {
	seen := map[time.Duration]bool{}
	for i, b := range r.Before {
		switch {
		case b <= 0:
			v.add(fmt.Sprintf("reminders.before[%d]", i), "must be greater than 0")
		case seen[b]:
			v.addEntry("reminders.before", i, "%s listed twice", formatDuration(b))
		}
		seen[b] = true
	}
	v.positive("reminders.escalate_after", r.EscalateAfter)
	v.positive("reminders.default_duration", r.DefaultDuration)
	if r.DefaultDuration > 0 && maxWindow > 0 && r.DefaultDuration > maxWindow {
		v.add("reminders.default_duration", "longer than max_window (%s)", formatDuration(maxWindow))
	}
}

// ref checks an owner or admin, entry i of the list at path: a [[people]]
// name or a platform id of an allowed kind.
func (v *validator) ref(path string, i int, s string) {
	if !IsID(s) {
		if _, ok := v.people[s]; ok {
			return
		}
		v.addEntry(path, i, "unknown person %s (a bare name must match a [[people]] name%s)", quoteSafe(s), alsoDidYouMean(s, v.people))
		return
	}
	v.id(path, i, s, "owners and admins are people, users, user groups or roles", KindUser, KindGroup, KindRole, KindUserOrChannel, KindConsole)
}

// id parses a platform id, entry i of the list at path, and checks its
// kind; want says what is expected there.
func (v *validator) id(path string, i int, s, want string, allowed ...IDKind) (ID, bool) {
	id, err := ParseID(s)
	if err != nil {
		v.addEntry(path, i, "%v", err)
		return ID{}, false
	}
	for _, k := range allowed {
		if id.Kind == k {
			return id, true
		}
	}
	v.addEntry(path, i, "%s is a %s; %s", quoteSafe(s), id.Kind, want)
	return ID{}, false
}

func (v *validator) peopleAndServices(c Config) {
	owner := map[string]string{} // platform id -> person name
	for i, p := range c.People {
		path := fmt.Sprintf("people[%d]", i)
		switch {
		case p.Name == "":
			v.add(path+".name", "required")
		case !nameRe.MatchString(p.Name):
			v.add(path+".name", "must be one word of letters, digits, \".\", \"_\" or \"-\"")
		case v.people[p.Name] != i:
			v.add(path+".name", "duplicate person %q (first at people[%d])", p.Name, v.people[p.Name])
		}
		for j, s := range p.IDs {
			id, ok := v.id(path+".ids", j, s, "a person's ids are users: slack:U.../W..., discord:<snowflake> or console:<name>", KindUser, KindUserOrChannel, KindConsole)
			if !ok {
				continue
			}
			key := id.String()
			if prev, taken := owner[key]; taken {
				if prev == p.Name {
					v.addEntry(path+".ids", j, "%s listed twice", quoteSafe(s))
				} else {
					v.addEntry(path+".ids", j, "%s already belongs to %q", quoteSafe(s), prev)
				}
				continue
			}
			owner[key] = p.Name
		}
		if p.Timezone != "" {
			if _, err := time.LoadLocation(p.Timezone); err != nil || p.Timezone == "Local" {
				v.add(path+".timezone", "unknown time zone %q; use an IANA name such as \"Europe/Berlin\"", p.Timezone)
			}
		}
	}

	// Commands match service names case-insensitively: a name is ambiguous
	// if an earlier one differs from it in case alone. Names are ASCII
	// (nameRe), so lower case is their fold; the first entry of each fold
	// is found in a map, not by going over every earlier entry (quadratic:
	// 100,000 services took over a minute).
	folded := map[string]int{} // lower-case name -> index of its first entry
	for i, s := range c.Services {
		path := fmt.Sprintf("services[%d]", i)
		switch {
		case s.Name == "":
			v.add(path+".name", "required")
		case !nameRe.MatchString(s.Name):
			v.add(path+".name", "must be one word of letters, digits, \".\", \"_\" or \"-\"")
		case v.services[s.Name] != i:
			v.add(path+".name", "duplicate service %q (first at services[%d])", s.Name, v.services[s.Name])
		default:
			fold := strings.ToLower(s.Name)
			if j, ok := folded[fold]; ok {
				v.add(path+".name", "duplicate service %q (same as %q at services[%d], names are case-insensitive)", s.Name, c.Services[j].Name, j)
			} else {
				folded[fold] = i
			}
		}
		for j, o := range s.Owners {
			v.ref(path+".owners", j, o)
		}
		for j, ch := range s.Channels {
			v.id(path+".channels", j, ch, "channels are slack:C.../G.../D..., discord:<snowflake> or console:<name>", KindChannel, KindUserOrChannel, KindConsole)
		}
		seen := map[string]bool{}
		for j, dep := range s.DependsOn {
			switch {
			case seen[dep]:
				v.addEntry(path+".depends_on", j, "%s listed twice", quoteSafe(dep))
			case !v.hasService(dep):
				v.addEntry(path+".depends_on", j, "unknown service %s%s", quoteSafe(dep), didYouMean(dep, v.services))
			}
			seen[dep] = true
		}
		if s.Repo != "" && !repoRe.MatchString(s.Repo) {
			v.add(path+".repo", "must be a GitHub repository as owner/name, e.g. \"acme/payments\"")
		}
	}
	v.cycles(c.Services)
}

func (v *validator) hasService(name string) bool {
	_, ok := v.services[name]
	return ok
}

// cycles reports each dependency cycle once, found by a depth-first walk in file order.
func (v *validator) cycles(services []Service) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		color[name] = grey
		stack = append(stack, name)
		for _, dep := range services[v.services[name]].DependsOn {
			if !v.hasService(dep) {
				continue
			}
			switch color[dep] {
			case white:
				visit(dep)
			case grey:
				start := 0
				for k, n := range stack {
					if n == dep {
						start = k
					}
				}
				cycle := append(append([]string{}, stack[start:]...), dep)
				v.add("services", "dependency cycle %s", strings.Join(cycle, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
	}
	for i, s := range services {
		if s.Name != "" && v.services[s.Name] == i && color[s.Name] == white {
			visit(s.Name)
		}
	}
}

// readiness checks one go/no-go checklist: at most MaxCriteria criteria,
// none empty, none longer than MaxCriterionLen characters, none twice
// (case-insensitively: commands name them that way), none only a number
// (a number names a criterion by its place) and none with a double quote
// (commands take it for quoting).
func (v *validator) readiness(path string, list []string) {
	if len(list) > MaxCriteria {
		v.add(path, "has %d criteria; at most %d are allowed (each is a button on the root message)", len(list), MaxCriteria)
	}
	seen := map[string]int{}
	for i, c := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		t := strings.TrimSpace(c)
		switch {
		case t == "":
			v.add(p, "is empty; name what must be true before the upgrade starts, e.g. \"backups verified\"")
			continue
		case utf8.RuneCountInString(t) > MaxCriterionLen:
			v.add(p, "is %d characters long; at most %d are allowed", utf8.RuneCountInString(t), MaxCriterionLen)
		case strings.ContainsAny(t, "\n\r"):
			v.add(p, "must be one line")
		case onlyNumber(t):
			v.add(p, "%q is only a number, and commands read a number as the criterion's place in the checklist, so it could not be named by its text; write what must be true, e.g. \"step %s done\"", t, strings.TrimPrefix(t, "#"))
		case strings.ContainsAny(t, "\"“”"):
			v.add(p, "%q holds a double quote, which commands read as quoting, so it could not be typed; leave the quotes out or use single quotes (')", t)
		}
		k := strings.ToLower(t)
		if j, dup := seen[k]; dup {
			v.add(p, "duplicate criterion %q (same as %s[%d], criteria are case-insensitive)", c, path, j)
			continue
		}
		seen[k] = i
	}
}

// onlyNumber reports whether a criterion is a number the commands would
// read as its place in the checklist ("2", "#2").
func onlyNumber(t string) bool {
	_, err := strconv.Atoi(strings.TrimPrefix(t, "#"))
	return err == nil
}

// alsoDidYouMean is didYouMean inside a parenthesis already open:
// "; did you mean "alice"?".
func alsoDidYouMean(s string, known map[string]int) string {
	if d := didYouMean(s, known); d != "" {
		return "; " + strings.TrimSuffix(strings.TrimPrefix(d, " ("), ")")
	}
	return ""
}

// didYouMean suggests a known name differing only in case.
func didYouMean(s string, known map[string]int) string {
	best := ""
	for k := range known {
		if strings.EqualFold(k, s) && (best == "" || k < best) {
			best = k
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// blameEnv names the variable a problem's value came from: a value set by
// the environment is not in the file, so "redis.url: not a valid URL" would
// send the operator to a file that looks right. The key path stays beside
// it: "env UPGRADEBOT_REDIS_URL (redis.url)".
func (c Config) blameEnv(ps []Problem) []Problem {
	if len(c.fromEnv) == 0 {
		return ps
	}
	for i, p := range ps {
		key := p.Path
		if j := strings.IndexByte(key, ' '); j >= 0 {
			key = key[:j]
		}
		name, ok := c.fromEnv[key]
		if !ok { // an entry of a list: discord.guild_ids[1]
			if j := strings.LastIndexByte(key, '['); j > 0 && strings.HasSuffix(key, "]") {
				name, ok = c.fromEnv[key[:j]]
			}
		}
		if ok {
			ps[i].Path = "env " + name + " (" + p.Path + ")"
		}
	}
	return ps
}

// portOf is the port of host[:port] (an IPv6 address in brackets), "" when
// none is given.
func portOf(hostport string) string {
	if _, p, err := net.SplitHostPort(hostport); err == nil {
		return p
	}
	return ""
}

// isPort reports whether p is a port a server can listen on: 1 to 65535.
func isPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}
