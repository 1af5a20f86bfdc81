package slack

import (
	"bytes"
	"errors"
	"net/url"
)

var errMalformedForm = errors.New("malformed form")

// formValue returns the value of key in a form-encoded body (the first one,
// unescaped), checking the whole form as url.ParseQuery does: a malformed
// escape or a semicolon anywhere is an error. Unlike ParseQuery it copies
// nothing but the value: an interaction's form is one large payload field.
func formValue(body []byte, key string) ([]byte, error) {
	var value []byte
	found := false
	for len(body) > 0 {
		var pair []byte
		pair, body, _ = bytes.Cut(body, []byte("&"))
		if bytes.IndexByte(pair, ';') >= 0 {
			return nil, errMalformedForm
		}
		if len(pair) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(pair, []byte("="))
		if !validEscapes(k) || !validEscapes(v) {
			return nil, errMalformedForm
		}
		if found || !formKeyIs(k, key) {
			continue
		}
		found, value = true, unescapeForm(v)
	}
	return value, nil
}

// formKeyIs reports whether the escaped form key k is key.
func formKeyIs(k []byte, key string) bool {
	if bytes.IndexByte(k, '%') < 0 && bytes.IndexByte(k, '+') < 0 {
		return string(k) == key
	}
	u, err := url.QueryUnescape(string(k))
	return err == nil && u == key
}

// validEscapes reports whether every % in s starts an escape of two hex digits.
func validEscapes(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		i += 2
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// unescapeForm decodes a form value whose escapes are valid: %XX and +.
func unescapeForm(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case '+':
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out
}
