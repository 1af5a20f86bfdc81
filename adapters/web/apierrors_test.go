package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// errorCodes are the codes the OpenAPI document's Error allows.
func errorCodes(t *testing.T) []string {
	t.Helper()
	raw, _ := assets.ReadFile("assets/openapi.json")
	spec, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, v := range spec.Components.Schemas["Error"].Value.Properties["code"].Value.Enum {
		codes = append(codes, v.(string))
	}
	return codes
}

// Every error of /api/v1/ is JSON {"code", "message"}: a path the API
// does not have is 404 not_found, a method a path does not take 405
// method_not_allowed with its Allow header.
func TestEveryAPIErrorIsJSON(t *testing.T) {
	srv := serveCore(t, readinessCore())
	codes := errorCodes(t)
	for _, c := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{http.MethodGet, "/api/v1/", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/api/v1", http.StatusNotFound, "not_found", ""}, // answered, not redirected (TestAPIRootIsAJSON404)
		{http.MethodGet, "/api/v1/nothing", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/api/v1/upgrades/UPG-1/nothing", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/api/v1/upgrades", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodDelete, "/api/v1/upgrades/UPG-1", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodPut, "/api/v1/services/payments/status", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodPost, "/api/v1/openapi.json", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodGet, "/api/v1/upgrades/UPG-99", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/api/v1/services/nope/status", http.StatusNotFound, "not_found", ""},
	} {
		code, hdr, body := call(t, srv, c.method, c.path)
		var e struct{ Code, Message string }
		err := json.Unmarshal([]byte(body), &e)
		if code != c.status || err != nil || e.Code != c.code || e.Message == "" || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %s %q; want %d JSON with code %s", c.method, c.path, code, hdr.Get("Content-Type"), body, c.status, c.code)
		}
		if hdr.Get("Allow") != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, hdr.Get("Allow"), c.allow)
		}
		if !slices.Contains(codes, e.Code) {
			t.Errorf("%s %s: code %q is not in the OpenAPI document's Error codes %v", c.method, c.path, e.Code, codes)
		}
	}
	// What is not /api/v1/ is not the API's to answer.
	if code, hdr, _ := call(t, srv, http.MethodGet, "/nothing"); code != http.StatusNotFound || strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Errorf("GET /nothing: %d %s", code, hdr.Get("Content-Type"))
	}
}

// from= and to= with a positive offset work when the + is sent as it is
// written (curl "…?from=2026-11-30T09:00:00+01:00"): a query string reads
// that + as a space, which no RFC 3339 time has there. The instant is the
// one written, not read as UTC or as a negative offset.
func TestFromToTakeAnUnencodedPlusOfTheOffset(t *testing.T) {
	c := readinessCore()
	srv := serveCore(t, c)
	for _, q := range []string{
		"from=2026-11-30T09:00:00+01:00",
		"to=2026-11-30T09:00:00+01:00",
		"from=2026-11-30T09:00:00.5+01:00&to=2026-12-01T09:00:00+01:00",
		"from=2026-11-30T09:00:00%2B01:00", // encoded, as before
	} {
		if code, _, body := call(t, srv, http.MethodGet, "/api/v1/upgrades?"+q); code != http.StatusOK {
			t.Errorf("?%s: %d %s; want 200", q, code, body)
		}
	}
	s := New(Options{Core: c, Tokens: []string{"tok"}, Public: true})
	t.Cleanup(s.Close)
	req, _ := http.NewRequest(http.MethodGet, "/api/v1/upgrades?from=2026-11-30T09:00:00+01:00&to=2026-11-30T09:00:00-01:00", nil)
	f, err := s.filter(req)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC); !f.From.Equal(want) {
		t.Errorf("from: %v, want %v", f.From, want)
	}
	if want := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC); !f.To.Equal(want) {
		t.Errorf("to: %v, want %v", f.To, want)
	}
	// What is still not a time is refused, naming the parameter.
	for _, q := range []string{"from=2026-11-30 09:00:00 01:00", "from=09:00:00 01:00", "from=2026-11-30T09:00:00 0100"} {
		code, _, body := call(t, srv, http.MethodGet, "/api/v1/upgrades?"+strings.ReplaceAll(q, " ", "+"))
		if code != http.StatusBadRequest || !strings.Contains(body, `"from: `) {
			t.Errorf("?%s: %d %s; want 400 naming from", q, code, body)
		}
	}
}

// The OpenAPI document describes every path of /api/v1, itself too: a
// client generated from it can fetch it, without a token, and the answer
// matches what the document says of it.
func TestOpenAPIDocumentDescribesItself(t *testing.T) {
	srv := serveCore(t, readinessCore())
	code, hdr, body := call(t, srv, http.MethodGet, "/api/v1/openapi.json", "Authorization", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json without a token: %d %s", code, body)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: srv.URL + "/api/v1"}}
	rt, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/openapi.json", nil)
	route, params, err := rt.FindRoute(req)
	if err != nil {
		t.Fatalf("GET /api/v1/openapi.json is not in the document: %v", err)
	}
	// No token sent: a call the document says needs one fails here.
	noToken := func(context.Context, *openapi3filter.AuthenticationInput) error {
		return errors.New("no token was sent")
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: noToken}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		t.Errorf("the document asks a token of GET /openapi.json, which needs none: %v", err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: code, Header: hdr,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes([]byte(body))
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("the answer does not match the document: %v", err)
	}
}
