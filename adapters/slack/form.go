package slack

import (
	"bytes"
	"errors"
	"net/url"
)

var errMalformedForm = errors.New("malformed form")

// maxFormPairs is the most fields url.ParseQuery reads in a form (its
// default limit, GODEBUG urlmaxqueryparams aside); a form with more is an
// error.
const maxFormPairs = 10000

// formValue returns the value of key in a form-encoded body (the first one,
// unescaped), checking the whole form as url.ParseQuery does: a malformed
// escape or a semicolon anywhere, or more than maxFormPairs fields, is an
// error. Unlike ParseQuery it copies nothing: the value is unescaped in
// place, so body is overwritten and the value returned is a part of it (the
// caller owns body and reads nothing else of it after). An interaction's
// form is one large payload field.
func formValue(body []byte, key string) ([]byte, error) {
	var value []byte
	found := false
	seps := 0
	for len(body) > 0 {
		pair := body
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
			if seps++; seps >= maxFormPairs {
				return nil, errMalformedForm
			}
		} else {
			body = nil
		}
		if len(pair) == 0 {
			continue
		}
		if bytes.IndexByte(pair, ';') >= 0 {
			return nil, errMalformedForm
		}
		k, v, _ := bytes.Cut(pair, []byte("="))
		if found || !formKeyIs(k, key) {
			if !validEscapes(k) || !validEscapes(v) {
				return nil, errMalformedForm
			}
			continue
		}
		// k is valid: formKeyIs unescaped it.
		u, ok := unescapeInPlace(v)
		if !ok {
			return nil, errMalformedForm
		}
		found, value = true, u
	}
	return value, nil
}

// formKeyIs reports whether the escaped form key k is key (false for a key
// that does not unescape).
func formKeyIs(k []byte, key string) bool {
	if bytes.IndexByte(k, '%') < 0 && bytes.IndexByte(k, '+') < 0 {
		return string(k) == key
	}
	u, err := url.QueryUnescape(string(k))
	return err == nil && u == key
}

// validEscapes reports whether every % in s starts an escape of two hex digits.
func validEscapes(s []byte) bool {
	for {
		i := bytes.IndexByte(s, '%')
		if i < 0 {
			return true
		}
		if i+2 >= len(s) || unhexTab[s[i+1]]|unhexTab[s[i+2]] > 0xf {
			return false
		}
		s = s[i+3:]
	}
}

func isHex(c byte) bool { return unhexTab[c] <= 0xf }

// unhexTab maps a hex digit to its value, anything else to badHex.
var unhexTab = func() (t [256]byte) {
	for i := range t {
		t[i] = badHex
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

const badHex = 0x10

// unescapeInPlace decodes a form value, %XX and +, over itself (the result
// is never longer), and reports whether every escape was valid; s is
// overwritten either way.
func unescapeInPlace(s []byte) ([]byte, bool) {
	w := 0
	for r := 0; r < len(s); w++ {
		switch c := s[r]; c {
		case '%':
			if r+2 >= len(s) {
				return nil, false
			}
			hi, lo := unhexTab[s[r+1]], unhexTab[s[r+2]]
			if hi|lo > 0xf {
				return nil, false
			}
			s[w] = hi<<4 | lo
			r += 3
		case '+':
			s[w] = ' '
			r++
		default:
			s[w] = c
			r++
		}
	}
	return s[:w], true
}
