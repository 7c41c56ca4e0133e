package graphtest

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
)

// Fault is a scripted answer. It matches the next request with Method
// whose path ends in Suffix; Times is how many requests it answers (0 means
// 1, negative means all). With Apply the route runs first, so a write
// happens and the client still sees the fault.
type Fault struct {
	Method, Suffix string
	Status         int
	Code, Message  string // an OData error body unless Body or ContentType is set
	Body           string
	ContentType    string // of Body; "" means application/json
	Header         map[string]string
	Times          int
	Apply          bool
	HangUp         bool // close the connection without an answer
}

// Request is a request as the fake received it, body decompressed.
type Request struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// Route answers an authenticated request: a status and a value to encode
// as the JSON body (none for 204 No Content). reqID is the request-id the
// answer carries. It runs with the Server's lock held.
type Route func(r *http.Request, body []byte, reqID string) (status int, resp any)

// Server is an httptest Graph stand-in. It records every request, answers
// request-id req-N (N counting from 1) and echoes client-request-id,
// refuses with 401 a request without "Bearer " + Token, answers scripted
// faults, and hands the rest to its Route. The embedded httptest.Server
// gives its URL; it is closed when the test ends.
type Server struct {
	*httptest.Server
	t     *testing.T
	route Route

	mu       sync.Mutex
	faults   []*Fault
	requests []Request
}

// NewServer starts a Server that answers through route.
func NewServer(t *testing.T, route Route) *Server {
	t.Helper()
	s := &Server{t: t, route: route}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Lock takes the lock the Route runs under: a fake's own state shares it.
func (s *Server) Lock() { s.mu.Lock() }

// Unlock releases the lock Lock took.
func (s *Server) Unlock() { s.mu.Unlock() }

// Inject scripts f for the requests that follow.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Seen returns the requests received so far, in order.
func (s *Server) Seen() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests with method reached a path ending in
// suffix.
func (s *Server) Count(method, suffix string) int {
	n := 0
	for _, r := range s.Seen() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

// Unexpected fails the test for a request no route knows and answers 501.
func (s *Server) Unexpected(r *http.Request, reqID string) (int, any) {
	s.t.Errorf("fake graph: unexpected %s %s", r.Method, r.URL.Path)
	return http.StatusNotImplemented, ODataError("NotImplemented", "not in the fake", reqID)
}

// NotFound answers Graph's 404 Request_ResourceNotFound for object id.
func NotFound(id, reqID string) (int, any) {
	return http.StatusNotFound, ODataError("Request_ResourceNotFound",
		"Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.", reqID)
}

// ODataError returns Graph's error body: code, message, and an inner error
// with request-id reqID and client-request-id "inner-" + reqID.
func ODataError(code, message, reqID string) map[string]any {
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

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			s.t.Errorf("fake graph: bad gzip body: %v", err)
			writeJSON(w, http.StatusBadRequest, ODataError("Request_BadRequest", "bad gzip", "gzip"))
			return
		}
		rd = gz
	}
	body, _ := io.ReadAll(rd)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	reqID := fmt.Sprintf("req-%d", len(s.requests))
	w.Header().Set("request-id", reqID)
	if v := r.Header.Get("client-request-id"); v != "" {
		w.Header().Set("client-request-id", v)
	}
	if r.Header.Get("Authorization") != "Bearer "+Token {
		writeJSON(w, http.StatusUnauthorized, ODataError("InvalidAuthenticationToken", "Access token is empty.", reqID))
		return
	}

	fl := s.takeFault(r.Method, r.URL.Path)
	if fl != nil && !fl.Apply {
		s.writeFault(w, fl, reqID)
		return
	}
	status, resp := s.route(r, body, reqID)
	if fl != nil {
		s.writeFault(w, fl, reqID)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, resp)
}

// takeFault returns the first fault for method and path, counting it down.
func (s *Server) takeFault(method, path string) *Fault {
	for i, fl := range s.faults {
		if fl.Method != method || !strings.HasSuffix(path, fl.Suffix) {
			continue
		}
		if fl.Times >= 0 {
			if fl.Times <= 1 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			} else {
				fl.Times--
			}
		}
		return fl
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, fl *Fault, reqID string) {
	if fl.HangUp {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			s.t.Errorf("fake graph: hijack: %v", err)
			return
		}
		_ = conn.Close()
		return
	}
	for k, v := range fl.Header {
		w.Header().Set(k, v)
	}
	if fl.Body != "" || fl.ContentType != "" {
		ct := fl.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(fl.Status)
		_, _ = io.WriteString(w, fl.Body)
		return
	}
	writeJSON(w, fl.Status, ODataError(fl.Code, fl.Message, reqID))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
