package graphapps

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test identities. canary is the secret text the fake mints; tests search
// every output for it.
const (
	testToken    = "fake-graph-token"
	canary       = "CANARY-s3cr3t-~value"
	testObjectID = "6c1f2e3d-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
	testClientID = "0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b"
	testSPID     = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	oldKeyID     = "11111111-2222-4333-8444-555555555555"
)

// fault is a scripted answer. It matches the next request with its method
// and path suffix; times is how many requests it answers (0 means 1,
// negative means all). apply runs the real operation first, so the write
// happens and the client still sees the failure.
type fault struct {
	method, suffix string
	status         int
	code, message  string // an OData error body unless body is set
	body           string
	contentType    string
	header         map[string]string
	times          int
	apply          bool
	hangUp         bool // close the connection without an answer
}

// seenRequest is a request as the fake received it, body decompressed.
type seenRequest struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

type fakeCredential struct {
	KeyID, DisplayName, Hint string
	Start, End               time.Time
}

// fakeGraph is a stateful stand-in for the Graph endpoints the package
// uses, holding one application.
type fakeGraph struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	appExists  bool
	creds      []fakeCredential
	faults     []*fault
	requests   []seenRequest
	keys       int
	notFoundAs int // status for "No password credential found": 400 or 404
}

func newFakeGraph(t *testing.T) *fakeGraph {
	t.Helper()
	f := &fakeGraph{t: t, appExists: true, notFoundAs: http.StatusBadRequest}
	f.creds = []fakeCredential{{
		KeyID: oldKeyID, DisplayName: "keyturn-previous", Hint: "abc",
		Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), End: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) inject(fl fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fl)
}

func (f *fakeGraph) seen() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.requests...)
}

// count returns how many requests with method reached the fake at a path
// ending in suffix.
func (f *fakeGraph) count(method, suffix string) int {
	n := 0
	for _, r := range f.seen() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func (f *fakeGraph) credentials() []fakeCredential {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCredential(nil), f.creds...)
}

func (f *fakeGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		var rd io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(r.Body)
			if err != nil {
				f.t.Errorf("fake graph: bad gzip body: %v", err)
				writeJSON(w, http.StatusBadRequest, odataError("Request_BadRequest", "bad gzip", "gzip"))
				return
			}
			rd = gz
		}
		body, _ = io.ReadAll(rd)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, seenRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	reqID := fmt.Sprintf("req-%d", len(f.requests))
	w.Header().Set("request-id", reqID)
	if v := r.Header.Get("client-request-id"); v != "" {
		w.Header().Set("client-request-id", v)
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeJSON(w, http.StatusUnauthorized, odataError("InvalidAuthenticationToken", "Access token is empty.", reqID))
		return
	}

	fl := f.takeFault(r.Method, r.URL.Path)
	if fl != nil && !fl.apply {
		f.writeFault(w, fl, reqID)
		return
	}
	status, resp := f.route(r.Method, r.URL.Path, body, reqID)
	if fl != nil {
		f.writeFault(w, fl, reqID)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, resp)
}

func (f *fakeGraph) takeFault(method, path string) *fault {
	for i, fl := range f.faults {
		if fl.method != method || !strings.HasSuffix(path, fl.suffix) {
			continue
		}
		if fl.times >= 0 {
			if fl.times <= 1 {
				f.faults = append(f.faults[:i], f.faults[i+1:]...)
			} else {
				fl.times--
			}
		}
		return fl
	}
	return nil
}

func (f *fakeGraph) writeFault(w http.ResponseWriter, fl *fault, reqID string) {
	if fl.hangUp {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			f.t.Errorf("fake graph: hijack: %v", err)
			return
		}
		_ = conn.Close()
		return
	}
	for k, v := range fl.header {
		w.Header().Set(k, v)
	}
	if fl.body != "" || fl.contentType != "" {
		ct := fl.contentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(fl.status)
		_, _ = io.WriteString(w, fl.body)
		return
	}
	writeJSON(w, fl.status, odataError(fl.code, fl.message, reqID))
}

// route implements the four endpoints against the fake's state.
func (f *fakeGraph) route(method, path string, body []byte, reqID string) (int, any) {
	notFound := func(what string) (int, any) {
		return http.StatusNotFound, odataError("Request_ResourceNotFound", "Resource '"+what+"' does not exist or one of its queried reference-property objects are not present.", reqID)
	}
	byAppID := "/v1.0/applications(appId='" + testClientID + "')"
	byID := "/v1.0/applications/" + testObjectID
	switch {
	case method == http.MethodGet && (path == byAppID || path == byID):
		if !f.appExists {
			return notFound(testClientID)
		}
		return http.StatusOK, f.appJSON()
	case method == http.MethodPost && path == byID+"/addPassword":
		if !f.appExists {
			return notFound(testObjectID)
		}
		var in struct {
			PasswordCredential struct {
				DisplayName string    `json:"displayName"`
				EndDateTime time.Time `json:"endDateTime"`
			} `json:"passwordCredential"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return http.StatusBadRequest, odataError("Request_BadRequest", "bad body", reqID)
		}
		f.keys++
		c := fakeCredential{
			KeyID:       fmt.Sprintf("%08x-0000-4000-8000-00000000abcd", f.keys),
			DisplayName: in.PasswordCredential.DisplayName,
			Hint:        canary[:3],
			Start:       time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			End:         in.PasswordCredential.EndDateTime.UTC(),
		}
		f.creds = append(f.creds, c)
		out := credJSON(c)
		out["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.passwordCredential"
		out["secretText"] = canary
		return http.StatusOK, out
	case method == http.MethodPost && path == byID+"/removePassword":
		if !f.appExists {
			return notFound(testObjectID)
		}
		var in struct {
			KeyID string `json:"keyId"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return http.StatusBadRequest, odataError("Request_BadRequest", "bad body", reqID)
		}
		for i, c := range f.creds {
			if strings.EqualFold(c.KeyID, in.KeyID) {
				f.creds = append(f.creds[:i], f.creds[i+1:]...)
				return http.StatusNoContent, nil
			}
		}
		code := "Request_BadRequest"
		if f.notFoundAs == http.StatusNotFound {
			code = "Request_ResourceNotFound"
		}
		return f.notFoundAs, odataError(code, "No password credential found with keyId "+in.KeyID+".", reqID)
	}
	f.t.Errorf("fake graph: unexpected %s %s", method, path)
	return http.StatusNotImplemented, odataError("NotImplemented", "not in the fake", reqID)
}

func (f *fakeGraph) appJSON() map[string]any {
	creds := []any{}
	for _, c := range f.creds {
		creds = append(creds, credJSON(c))
	}
	return map[string]any{
		"@odata.context":      "https://graph.microsoft.com/v1.0/$metadata#applications(id,appId,displayName,passwordCredentials,signInAudience)/$entity",
		"id":                  testObjectID,
		"appId":               testClientID,
		"displayName":         "payments-api",
		"signInAudience":      "AzureADMyOrg",
		"passwordCredentials": creds,
	}
}

func credJSON(c fakeCredential) map[string]any {
	return map[string]any{
		"customKeyIdentifier": nil,
		"displayName":         c.DisplayName,
		"endDateTime":         c.End.Format(time.RFC3339),
		"hint":                c.Hint,
		"keyId":               c.KeyID,
		"secretText":          nil,
		"startDateTime":       c.Start.Format(time.RFC3339Nano),
	}
}

func odataError(code, message, reqID string) map[string]any {
	return map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"innerError": map[string]any{
			"date":              "2026-03-01T12:00:00",
			"request-id":        reqID,
			"client-request-id": "inner-" + reqID,
		},
	}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
