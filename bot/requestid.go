package bot

import (
	"context"
	"log/slog"
)

// A request id ties together what one command or press caused: its reply,
// the posts in the threads and the events, in the logs and in the events'
// request_id. Platforms start one per request (NewRequest); the core
// carries it through the context and into the notices it queues.

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewRequest returns ctx with a new request id, unless it carries one.
func NewRequest(ctx context.Context) context.Context {
	if RequestID(ctx) != "" {
		return ctx
	}
	return WithRequestID(ctx, newRequestID())
}

// newRequestID is "req_" and 16 random hex digits, built in one piece.
func newRequestID() string {
	var b [4 + 16]byte
	copy(b[:], "req_")
	appendRandomHex(b[4:4], 8)
	return string(b[:])
}

// LogHandler wraps h so that every record logged with a context carrying a
// request id has it as the attribute request_id.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
