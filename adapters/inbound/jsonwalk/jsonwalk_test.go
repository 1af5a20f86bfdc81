package jsonwalk

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

var seeds = []string{
	`{"a":[1,-2.5e3,true,false,null,{}],"b":{"c":"d"}}`, `[]`, `{}`, ` [ 1 , { "k" : "v" } ] `,
	`"plain"`, `"J\u00f6rg \ud83d\ude00"`, `"\/\"\\\b\f\n\r\t"`, `"\xff\xfe"`, `"a` + "\x01" + `"`, `"\q"`, `"\u12"`,
	`0`, `-0`, `01`, `-`, `1.`, `1e`, `1e+5`, `18446744073709551615`, `18446744073709551616`, `-9223372036854775808`,
	`true`, `false`, `null`, `nul`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `{"k\u00e9y":1,"\"":2}`, ``, `x`,
}

// A value the walker reads is one encoding/json accepts, read as it reads
// it; valid JSON the walker refuses is only what nests too deep.
func FuzzWalker(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		valid := json.Valid(b)
		w := New(b)
		skipped := w.Skip() && w.End()
		if skipped && !valid {
			t.Fatalf("Skip read %q, which encoding/json refuses", s)
		}
		nesting := bytes.Count(b, []byte("{")) + bytes.Count(b, []byte("["))
		if valid && !skipped && nesting <= MaxDepth {
			t.Fatalf("Skip refused %q", s)
		}

		w = New(b)
		if v, ok := w.Any(); ok && w.End() {
			var want any
			if err := json.Unmarshal(b, &want); err != nil || !reflect.DeepEqual(v, want) {
				t.Fatalf("Any read %q as %#v; encoding/json %#v, %v", s, v, want, err)
			}
		}
		w = New(b)
		if n, ok := w.Uint(64); ok && w.End() {
			var want uint64
			if err := json.Unmarshal(b, &want); err != nil || n != want {
				t.Fatalf("Uint read %q as %d; encoding/json %d, %v", s, n, want, err)
			}
		}
		w = New(b)
		if n, ok := w.Int(64); ok && w.End() {
			var want int64
			if err := json.Unmarshal(b, &want); err != nil || n != want {
				t.Fatalf("Int read %q as %d; encoding/json %d, %v", s, n, want, err)
			}
		}
		w = New(b)
		if v, ok := w.Bool(); ok && w.End() {
			var want bool
			if err := json.Unmarshal(b, &want); err != nil || v != want {
				t.Fatalf("Bool read %q as %v; encoding/json %v, %v", s, v, want, err)
			}
		}
		w = New(b)
		var str string
		if w.Str(&str) && w.End() {
			var want string
			if err := json.Unmarshal(b, &want); err != nil || str != want {
				t.Fatalf("Str read %q as %q; encoding/json %q, %v", s, str, want, err)
			}
		}
	})
}

// Fields reads the fields named, as encoding/json matches them, skips the
// others and refuses a field given twice (encoding/json merges them).
func TestFields(t *testing.T) {
	names := []string{"", "id", "user_name"}
	for _, c := range []struct {
		js   string
		ok   bool
		want [3]string
	}{
		{`{"id":"1","other":{"id":"x"},"USER_NAME":"bob"}`, true, [3]string{"", "1", "bob"}},
		{`{"Id":"1","id":"2"}`, false, [3]string{}},
		{`{"k\u00e9y":"1"}`, false, [3]string{}},
		{`{}`, true, [3]string{}},
	} {
		var got [3]string
		w := New([]byte(c.js))
		ok := w.Fields(names, func(f int) bool { return w.Str(&got[f]) }) && w.End()
		if ok != c.ok || ok && got != c.want {
			t.Errorf("%s: %v %q, want %v %q", c.js, ok, got, c.ok, c.want)
		}
	}
}

// Deep nesting is left to encoding/json.
func TestMaxDepth(t *testing.T) {
	deep := func(n int) []byte {
		return append(bytes.Repeat([]byte("["), n), bytes.Repeat([]byte("]"), n)...)
	}
	if w := New(deep(MaxDepth)); !w.Skip() || !w.End() {
		t.Errorf("%d arrays deep refused", MaxDepth)
	}
	if w := New(deep(MaxDepth + 1)); w.Skip() {
		t.Errorf("%d arrays deep read", MaxDepth+1)
	}
}
