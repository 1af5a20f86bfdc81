package bot

import (
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/upgradebot/upgradebot/commands"
)

// Service is one configured service.
type Service struct {
	Name      string
	Owners    []string // people names or platform ids (users, groups, roles)
	Channels  []string // platform channel ids where its threads go
	DependsOn []string // services this one needs
	Repo      string   // GitHub owner/name of its releases
	// Windows are its standard maintenance windows; none: every time is
	// as good as another.
	Windows []commands.Window
	// Readiness is its go/no-go checklist (the service's own list or the
	// configuration's default); each new upgrade copies it.
	Readiness []string
}

// Person is one human with several platform identities.
type Person struct {
	Name string
	IDs  []string // "slack:U012AB3CD", "discord:80351110224678912", "console:alice"
	// Location is the person's own zone, for platforms that do not tell it;
	// nil when the configuration gives none.
	Location *time.Location
}

// Config is everything the core needs from configuration.
type Config struct {
	Services []Service
	People   []Person
	Admins   []string
	// Groups lists the owner and admin entries that name a group or role
	// (which platform ids those are is the configuration's business).
	Groups          []string
	DefaultLocation *time.Location
	MaxWindow       time.Duration
	DefaultDuration time.Duration
	// MaxLead is how far ahead a window may start (default one year).
	MaxLead time.Duration
	// EarlyStart is how long before its window an upgrade may be started
	// (0: not before the window opens).
	EarlyStart    time.Duration
	Reminders     []time.Duration // offsets before the start
	EscalateAfter time.Duration
	// Freezes are the change freezes of the configuration; admins declare
	// more by command (FreezeStore).
	Freezes []Freeze
	// SeriesLead is how long before its window an occurrence of a series
	// is created (default 8 days, so the 7-day reminder goes out).
	SeriesLead time.Duration
	// UpgradePage is the address of upgrade id's status page, when the
	// upgrades have pages that anyone may open (server.public_url with
	// api.public); nil when there are none to link to. The surface that
	// serves the pages builds the address: the core knows no route.
	UpgradePage func(id int) string
	// ReleaseHost is the host of the GitHub Enterprise server whose release
	// pages link reads instead of github.com's, as its pages give it
	// (ghe.example.com, with a path prefix if the server is behind one:
	// ghe.example.com/github); "" for none (github.com's are read). The
	// wiring derives it from the release lookup's configuration: the core
	// knows no API address.
	ReleaseHost string
}

// Principal is someone who can be mentioned and acknowledge: a person, an
// unlisted platform user, or a group (Slack user group, Discord role).
type Principal struct {
	Key   string   // person name, or the platform id itself
	Name  string   // display name
	IDs   []string // platform ids to mention, by platform prefix
	Group bool     // a group or role, not a person: it has no inbox of its own
}

// Directory answers who is who and which service depends on which.
type Directory struct {
	services map[string]Service // by lower-case name
	names    []string           // configured names, sorted
	people   map[string]Person  // by name
	byID     map[string]string  // platform id -> person name
	admins   []string
	groups   map[string]bool
	// lastReminder is the smallest reminder offset: the reminder that lists
	// the open readiness criteria.
	lastReminder time.Duration
	// manyPlatforms: the services' channels are on more than one platform.
	manyPlatforms bool
	upgradePage   func(id int) string // Config.UpgradePage
}

// NewDirectory indexes the configuration.
func NewDirectory(cfg Config) *Directory {
	d := &Directory{services: map[string]Service{}, people: map[string]Person{}, byID: map[string]string{}, admins: cfg.Admins, groups: map[string]bool{},
		upgradePage: cfg.UpgradePage}
	for _, g := range cfg.Groups {
		d.groups[g] = true
	}
	if len(cfg.Reminders) > 0 {
		d.lastReminder = slices.Min(cfg.Reminders)
	}
	platforms := map[string]bool{}
	for _, s := range cfg.Services {
		d.services[strings.ToLower(s.Name)] = s
		d.names = append(d.names, s.Name)
		for _, ch := range s.Channels {
			if p, _, ok := strings.Cut(ch, ":"); ok {
				platforms[p] = true
			}
		}
	}
	d.manyPlatforms = len(platforms) > 1
	sort.Strings(d.names)
	for _, p := range cfg.People {
		d.people[p.Name] = p
		for _, id := range p.IDs {
			d.byID[id] = p.Name
		}
	}
	return d
}

// Service finds a service case-insensitively.
func (d *Directory) Service(name string) (Service, bool) {
	s, ok := d.services[strings.ToLower(name)]
	return s, ok
}

// ServicesOfRepo lists the services, by name, whose repo is repo
// ("owner/name", compared in any case); none for "".
func (d *Directory) ServicesOfRepo(repo string) []Service {
	if repo == "" {
		return nil
	}
	var out []Service
	for _, name := range d.names {
		if s := d.services[strings.ToLower(name)]; s.Repo != "" && strings.EqualFold(s.Repo, repo) {
			out = append(out, s)
		}
	}
	return out
}

// Person finds a [[people]] entry by name, case-insensitively.
func (d *Directory) Person(name string) (Person, bool) {
	if p, ok := d.people[name]; ok {
		return p, true
	}
	for n, p := range d.people {
		if strings.EqualFold(n, name) {
			return p, true
		}
	}
	return Person{}, false
}

// Location is the zone the configuration gives the person behind a key
// or platform id; nil when it gives none.
func (d *Directory) Location(key string) *time.Location {
	p, ok := d.people[d.KeyOf(key)]
	if !ok {
		return nil
	}
	return p.Location
}

// Named reports whether the configuration names entry as an owner or admin.
func (d *Directory) Named(entry string) bool {
	if slices.Contains(d.admins, entry) {
		return true
	}
	for _, s := range d.services {
		if slices.Contains(s.Owners, entry) {
			return true
		}
	}
	return false
}

// ServiceNames lists the configured services, sorted.
func (d *Directory) ServiceNames() []string { return d.names }

// ManyPlatforms reports whether the services' channels are on more than
// one platform (their ids' prefixes differ): a plain rendering then names
// each channel's platform (Plain.Platforms), as a bare #C0123 or #1122…
// does not say where it is.
func (d *Directory) ManyPlatforms() bool { return d.manyPlatforms }

// KeyOf maps a platform identity to its principal key: the person's name when
// the id belongs to a [[people]] entry, else the id itself.
func (d *Directory) KeyOf(platformID string) string {
	if name, ok := d.byID[platformID]; ok {
		return name
	}
	return platformID
}

// Principal resolves an owner entry or ack key to something that can be mentioned.
func (d *Directory) Principal(key string) Principal {
	if p, ok := d.people[key]; ok {
		return Principal{Key: key, Name: p.Name, IDs: p.IDs}
	}
	if name, ok := d.byID[key]; ok {
		return d.Principal(name)
	}
	name := key
	if i := strings.IndexByte(key, ':'); i >= 0 {
		name = key[i+1:]
	}
	return Principal{Key: key, Name: name, IDs: []string{key}, Group: d.groups[key]}
}

// PrincipalNamed is Principal(key) named name, the name the chat platform
// gave someone not in [[people]] (Ack.Name): a platform where her id
// means nothing writes @name rather than the id. A person of [[people]]
// keeps her configured name, a group its own; "" changes nothing.
func (d *Directory) PrincipalNamed(key, name string) Principal {
	p := d.Principal(key)
	if name != "" && !p.Group && p.Key == key && len(p.IDs) == 1 && p.IDs[0] == key {
		p.Name = name
	}
	return p
}

// Anonymous reports whether p is known by its platform id only: a user
// or group not in [[people]] whose name no platform gave (its Name is the
// id). A platform where that id means nothing names it in words instead.
func (p Principal) Anonymous() bool {
	_, id, ok := strings.Cut(p.Key, ":")
	return ok && p.Name == id
}

// maxChatName bounds a chat name kept with an acknowledgment (Discord's
// names have at most 32 characters, Slack's 80).
const maxChatName = 80

// ChatName is a name a chat platform gave, as it is kept: on one line,
// without control characters, at most maxChatName characters.
func ChatName(name string) string {
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, name))
	if utf8.RuneCountInString(name) > maxChatName {
		name = string([]rune(name)[:maxChatName])
	}
	return name
}

// Principals resolves several keys in order.
func (d *Directory) Principals(keys []string) []Principal {
	out := make([]Principal, 0, len(keys))
	for _, k := range keys {
		out = append(out, d.Principal(k))
	}
	return out
}

// Dependents returns every service that depends on name, directly or
// transitively: the blast radius. Sorted, without name itself.
func (d *Directory) Dependents(name string) []string {
	seen := map[string]bool{strings.ToLower(name): true}
	queue := []string{strings.ToLower(name)}
	var out []string
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, s := range d.services {
			if seen[strings.ToLower(s.Name)] {
				continue
			}
			for _, dep := range s.DependsOn {
				if strings.EqualFold(dep, cur) {
					seen[strings.ToLower(s.Name)] = true
					out = append(out, s.Name)
					queue = append(queue, strings.ToLower(s.Name))
					break
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Dependencies returns every service name depends on, transitively.
func (d *Directory) Dependencies(name string) []string {
	seen := map[string]bool{strings.ToLower(name): true}
	var out []string
	var walk func(string)
	walk = func(n string) {
		s, ok := d.Service(n)
		if !ok {
			return
		}
		for _, dep := range s.DependsOn {
			if !seen[strings.ToLower(dep)] {
				seen[strings.ToLower(dep)] = true
				out = append(out, dep)
				walk(dep)
			}
		}
	}
	walk(name)
	sort.Strings(out)
	return out
}

// Audience returns the principal keys who must acknowledge an upgrade of
// service: its owners and the owners of its blast radius, each person once.
func (d *Directory) Audience(service string) []string {
	var keys []string
	seen := map[string]bool{} // linear in the owners, however many
	add := func(owners []string) {
		for _, o := range owners {
			if k := d.KeyOf(o); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if s, ok := d.Service(service); ok {
		add(s.Owners)
	}
	for _, dep := range d.Dependents(service) {
		s, _ := d.Service(dep)
		add(s.Owners)
	}
	return keys
}

// OwnerKeys returns the service's owners as principal keys.
func (d *Directory) OwnerKeys(service string) []string {
	s, _ := d.Service(service)
	keys := make([]string, 0, len(s.Owners))
	seen := make(map[string]bool, len(s.Owners))
	for _, o := range s.Owners {
		if k := d.KeyOf(o); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// Actor is whoever typed a command or pressed a button.
type Actor struct {
	ID     string   // platform identity with prefix: "slack:U012AB3CD", "console:alice"
	Name   string   // display name the platform gave, if any
	Groups []string // groups/roles the platform says the actor is in ("slack:S...", "discord:&...")
	// GroupsUnknown: the platform could not say just now which of the
	// groups the actor is in (Groups may lack some); a press then counts
	// for the actor alone, and she is told to press again later.
	GroupsUnknown bool
}

// Matches reports whether the actor is named by any of the entries (people
// names, platform ids, groups).
func (d *Directory) Matches(a Actor, entries []string) bool {
	key := d.KeyOf(a.ID)
	for _, e := range entries {
		if e == a.ID || e == key || d.KeyOf(e) == key || slices.Contains(a.Groups, e) {
			return true
		}
	}
	return false
}

// IsAdmin reports whether the actor is a configured admin.
func (d *Directory) IsAdmin(a Actor) bool { return d.Matches(a, d.admins) }

// CanChange reports whether the actor may change upgrades of the service:
// owners and admins; anyone when the service has no owners.
func (d *Directory) CanChange(a Actor, service string) bool {
	s, _ := d.Service(service)
	return len(s.Owners) == 0 || d.Matches(a, s.Owners) || d.IsAdmin(a)
}

// Satisfies returns the audience keys that an ack by this actor answers: the
// actor's own key, plus any audience group the actor belongs to.
//
// The presser's own key comes first, and is left out when she is in the
// audience only through her groups: her press is then recorded once, as
// her groups' acknowledgment (Ack.By), not also as her own.
func (d *Directory) Satisfies(a Actor, audience []string) []string {
	self := d.KeyOf(a.ID)
	var groups []string
	for _, k := range audience {
		if slices.Contains(a.Groups, k) && k != self && !slices.Contains(groups, k) {
			groups = append(groups, k)
		}
	}
	if len(groups) > 0 && !slices.Contains(audience, self) {
		return groups
	}
	return append([]string{self}, groups...)
}
