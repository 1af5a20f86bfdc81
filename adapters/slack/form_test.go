package slack

import (
	"net/url"
	"strings"
	"testing"
)

// formValue reads a form as url.ParseQuery does: the same value, the same
// refusals.
func FuzzFormValue(f *testing.F) {
	for _, s := range []string{
		"payload=%7B%22type%22%3A%22block_actions%22%7D", "a=1&payload=x+y%2Bz", "payload=1&payload=2", "payload=%zz",
		"a=%&payload=1", "a;b=1&payload=2", "", "payload", "pay%6Coad=v", "&&payload=v&&", "payload=%E2%9C%93", "payload=%4",
		"p+ayload=1&payload=2", "payload=a%3Db=c", "=x&payload=", "payload=&payload=2", "payload=%41%2b+%2B%%41",
		"payload=a&b=%", "payload=a&b=%4", "payload=a&b;", "payload=%41&payload=%zz", "a=1&&&payload=%2",
		strings.Repeat("&", 9999) + "payload=1", strings.Repeat("&", 10000) + "payload=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := formValue([]byte(s), "payload")
		form, werr := url.ParseQuery(s)
		if (err != nil) != (werr != nil) {
			t.Fatalf("%q: error %v, url.ParseQuery's %v", s, err, werr)
		}
		if err == nil && string(got) != form.Get("payload") {
			t.Fatalf("%q: %q, url.ParseQuery's %q", s, got, form.Get("payload"))
		}
	})
}
