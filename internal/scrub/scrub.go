// Package scrub hides known secrets in log records, wherever they would
// show up: a message, an attribute, an error's text (a server that echoes
// what it was sent, say).
package scrub

import (
	"context"
	"log/slog"
	"strings"
)

// Hidden replaces a secret in a log.
const Hidden = "[redacted]"

// minLen is the shortest secret hidden: shorter ones would hide ordinary
// words, and are no secrets worth the name.
const minLen = 4

// Handler returns next, with every secret replaced by Hidden in what it
// logs; next itself when there is no secret to hide.
func Handler(next slog.Handler, secrets []string) slog.Handler {
	r := replacer(secrets)
	if r == nil {
		return next
	}
	return handler{next: next, r: r}
}

// Text returns a function that replaces every secret in a text by Hidden:
// for what leaves the process other than through the log (an error a
// server echoed back, kept on an upgrade and shown to people, or said by
// /readyz). Without secrets it returns the text as it is.
func Text(secrets []string) func(string) string {
	r := replacer(secrets)
	if r == nil {
		return func(s string) string { return s }
	}
	return r.Replace
}

func replacer(secrets []string) *strings.Replacer {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= minLen {
			pairs = append(pairs, s, Hidden)
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return strings.NewReplacer(pairs...)
}

type handler struct {
	next slog.Handler
	r    *strings.Replacer
}

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.r.Replace(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = h.attr(a)
	}
	return handler{next: h.next.WithAttrs(out), r: h.r}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{next: h.next.WithGroup(name), r: h.r}
}

// attr is a with the secrets in its text hidden.
func (h handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.Replace(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = h.attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			if s := err.Error(); h.r.Replace(s) != s {
				return slog.String(a.Key, h.r.Replace(s))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
