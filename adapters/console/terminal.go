package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// RunTTY runs the session interactively on a real terminal: in (a
// terminal) in raw mode for as long as it runs, restored when it returns
// however it ends (:quit, Ctrl-D, Ctrl-C on an empty line, ctx ending),
// with out's size for line wrapping. See RunTerminal. When raw mode is
// refused it says so and reads plain lines after a prompt (Run).
func (s *Session) RunTTY(ctx context.Context, in, out *os.File) error {
	fd := int(in.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		// No line editing then; the terminal's own line input still works.
		fmt.Fprintf(out, "(no line editing: %v)\n", err)
		s.o.Prompt = true
		return s.Run(ctx, in)
	}
	defer term.Restore(fd, old)
	size := func() (int, int, error) { return term.GetSize(int(out.Fd())) }
	return s.RunTerminal(ctx, struct {
		io.Reader
		io.Writer
	}{in, out}, size)
}

// RunTerminal runs the session on rw with line editing and history
// (golang.org/x/term's Terminal): ←/→ move in the line, ↑/↓ recall earlier
// lines, Ctrl-A/E/U/K/W and friends edit; Ctrl-D on an empty line leaves;
// Ctrl-C abandons the line being typed, or leaves on an empty line. A real
// terminal must be in raw mode already (RunTTY does it). Everything the
// session prints goes through the Terminal, which writes \r\n for \n and
// keeps the prompt intact. size, when set, is asked for the terminal's
// width and height before each line, so a resized window wraps right.
func (s *Session) RunTerminal(ctx context.Context, rw io.ReadWriter, size func() (width, height int, err error)) error {
	hist := &history{}
	var ed editState // set by the key callback, read after ReadLine returns
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{&interruptReader{r: rw}, rw}, "")
	t.History = hist
	t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key != keyInterrupt {
			return "", 0, false
		}
		if line == "" {
			ed = leaving
			return line, pos, true
		}
		// Leave the abandoned line on the screen marked ^C, as a shell
		// does; the Enter that follows ends it and it is not kept.
		ed, hist.skip = abandoned, true
		return line + "^C", len(line) + len("^C"), true
	}
	s.o.Out = t
	s.o.Echo, s.o.Prompt = false, false

	type read struct {
		line string
		err  error
	}
	for {
		if size != nil {
			// A terminal that does not know its size (0×0) keeps the last one.
			if w, h, err := size(); err == nil && w > 0 && h > 0 {
				t.SetSize(w, h)
			}
		}
		t.SetPrompt(s.name() + "> ")
		ed = typing
		done := make(chan read, 1)
		go func() {
			line, err := t.ReadLine()
			done <- read{line, err}
		}()
		var r read
		select {
		case <-ctx.Done():
			// The read goes on until the process ends; the line is dropped.
			io.WriteString(rw, "\r\n")
			return ctx.Err()
		case r = <-done:
		}
		if ed == leaving {
			return nil // the Enter after Ctrl-C ended the line on the screen
		}
		if errors.Is(r.err, io.EOF) {
			io.WriteString(rw, "\r\n") // leave the shell a fresh line
			return nil
		}
		if r.err != nil && !errors.Is(r.err, term.ErrPasteIndicator) {
			return fmt.Errorf("console: read input: %w", r.err)
		}
		if ed == abandoned {
			continue
		}
		line := strings.TrimSpace(r.line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if quit := s.Line(ctx, line); quit {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// editState is what a Ctrl-C did to the line being read.
type editState int

const (
	typing    editState = iota
	abandoned           // Ctrl-C on a line with text: drop it
	leaving             // Ctrl-C on an empty line: quit
)

// keyInterrupt stands for Ctrl-C. x/term's Terminal ends ReadLine with
// io.EOF on Ctrl-C, whatever was typed, so interruptReader hands it this
// private-use rune followed by Enter instead; the Terminal passes the rune
// to AutoCompleteCallback with the line as typed, which decides.
const keyInterrupt = '\uE003'

var interruptKeys = []byte(string(keyInterrupt) + "\r")

// interruptReader turns each Ctrl-C byte read from r into interruptKeys.
type interruptReader struct {
	r       io.Reader
	pending []byte
	err     error // of the read that filled pending, returned once it is handed over
}

func (ir *interruptReader) Read(p []byte) (int, error) {
	if len(ir.pending) == 0 {
		if err := ir.err; err != nil {
			ir.err = nil
			return 0, err
		}
		n, err := ir.r.Read(p)
		if bytes.IndexByte(p[:n], keyCtrlC) < 0 {
			return n, err
		}
		for _, b := range p[:n] {
			if b == keyCtrlC {
				ir.pending = append(ir.pending, interruptKeys...)
			} else {
				ir.pending = append(ir.pending, b)
			}
		}
		ir.err = err
	}
	n := copy(p, ir.pending)
	ir.pending = ir.pending[n:]
	return n, nil
}

const keyCtrlC = 3

// history keeps the last lines typed for ↑/↓ (a term.History): not empty
// lines, not a line equal to the one before it, not an abandoned one.
type history struct {
	entries []string // oldest first
	skip    bool     // drop the next entry (abandoned with Ctrl-C)
}

const historySize = 500

func (h *history) Add(entry string) {
	if h.skip {
		h.skip = false
		return
	}
	if strings.TrimSpace(entry) == "" || (len(h.entries) > 0 && h.entries[len(h.entries)-1] == entry) {
		return
	}
	if len(h.entries) == historySize {
		h.entries = h.entries[1:]
	}
	h.entries = append(h.entries, entry)
}

func (h *history) Len() int { return len(h.entries) }

// At returns the idx-th most recent entry (0: the last one).
func (h *history) At(idx int) string { return h.entries[len(h.entries)-1-idx] }

// CRLF writes to w with \r\n for each \n: what a terminal in raw mode
// needs. RunTerminal's Terminal does it for the session's own output; wrap
// anything else written to the terminal meanwhile (the log) with it.
func CRLF(w io.Writer) io.Writer { return crlfWriter{w} }

type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
