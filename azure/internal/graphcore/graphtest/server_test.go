package graphtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// echo is a Route that counts its calls and answers 200 {"ok":true}, or 204
// for DELETE.
type echo struct{ calls int }

func (e *echo) route(r *http.Request, _ []byte, _ string) (int, any) {
	e.calls++
	if r.Method == http.MethodDelete {
		return http.StatusNoContent, nil
	}
	return http.StatusOK, map[string]any{"ok": true}
}

// do sends method to s's path with the token unless noToken, and returns
// the status, the request-id header and the body.
func do(t *testing.T, s *Server, method, path string, noToken bool, body []byte, hdr map[string]string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if !noToken {
		req.Header.Set("Authorization", "Bearer "+Token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return 0, "", err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("request-id"), string(b)
}

func TestServerPlumbing(t *testing.T) {
	var e echo
	s := NewServer(t, e.route)

	status, reqID, body := do(t, s, http.MethodGet, "/v1.0/x", true, nil, nil)
	if status != http.StatusUnauthorized || reqID != "req-1" || !strings.Contains(body, `"code":"InvalidAuthenticationToken"`) {
		t.Errorf("without token: %d %s %s, want 401 req-1 InvalidAuthenticationToken", status, reqID, body)
	}
	if e.calls != 0 {
		t.Errorf("route ran %d times for an unauthenticated request", e.calls)
	}

	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte(`{"a":1}`))
	_ = w.Close()
	status, reqID, _ = do(t, s, http.MethodPost, "/v1.0/y/post", false, gz.Bytes(),
		map[string]string{"Content-Encoding": "gzip", "client-request-id": "c-9"})
	if status != http.StatusOK || reqID != "req-2" || e.calls != 1 {
		t.Errorf("with token: %d %s, route calls %d; want 200 req-2 and one call", status, reqID, e.calls)
	}
	if status, _, body := do(t, s, http.MethodDelete, "/v1.0/y", false, nil, nil); status != http.StatusNoContent || body != "" {
		t.Errorf("204 route: %d %q, want 204 and no body", status, body)
	}

	seen := s.Seen()
	if len(seen) != 3 {
		t.Fatalf("Seen() = %d requests, want 3", len(seen))
	}
	if r := seen[1]; r.Method != http.MethodPost || r.Path != "/v1.0/y/post" || string(r.Body) != `{"a":1}` || r.Header.Get("client-request-id") != "c-9" {
		t.Errorf("recorded %s %s body %q, want POST /v1.0/y/post with the body decompressed", r.Method, r.Path, r.Body)
	}
	if n := s.Count(http.MethodPost, "/post"); n != 1 {
		t.Errorf("Count(POST, /post) = %d, want 1", n)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		sends      int
		wantStatus []int
		wantCalls  int // route calls
		wantBody   string
	}{
		{name: "times 0 answers once", fault: Fault{Status: 429, Code: "TooManyRequests"}, sends: 2,
			wantStatus: []int{429, 200}, wantCalls: 1, wantBody: `"code":"TooManyRequests"`},
		{name: "times 2 answers twice", fault: Fault{Status: 503, Times: 2}, sends: 3,
			wantStatus: []int{503, 503, 200}, wantCalls: 1},
		{name: "negative times answers all", fault: Fault{Status: 500, Times: -1}, sends: 3,
			wantStatus: []int{500, 500, 500}, wantCalls: 0},
		{name: "apply runs the route and still fails", fault: Fault{Status: 504, Apply: true}, sends: 1,
			wantStatus: []int{504}, wantCalls: 1},
		{name: "raw body", fault: Fault{Status: 504, ContentType: "text/html", Body: "<html>Gateway Timeout</html>"}, sends: 1,
			wantStatus: []int{504}, wantBody: "<html>Gateway Timeout</html>"},
		{name: "hang up", fault: Fault{HangUp: true}, sends: 1, wantStatus: []int{0}},
		{name: "other suffix is not matched", fault: Fault{Suffix: "/elsewhere", Status: 500}, sends: 1,
			wantStatus: []int{200}, wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e echo
			s := NewServer(t, e.route)
			f := tc.fault
			f.Method = http.MethodGet
			if f.Suffix == "" {
				f.Suffix = "/target"
			}
			f.Header = map[string]string{"Retry-After": "7"}
			s.Inject(f)
			var got []int
			var firstBody string
			for i := range tc.sends {
				status, _, body := do(t, s, http.MethodGet, "/v1.0/target", false, nil, nil)
				got = append(got, status)
				if i == 0 {
					firstBody = body
				}
			}
			if !reflect.DeepEqual(got, tc.wantStatus) {
				t.Errorf("statuses = %v, want %v", got, tc.wantStatus)
			}
			if e.calls != tc.wantCalls {
				t.Errorf("route calls = %d, want %d", e.calls, tc.wantCalls)
			}
			if !strings.Contains(firstBody, tc.wantBody) {
				t.Errorf("first body = %q, want it to hold %q", firstBody, tc.wantBody)
			}
		})
	}
}

func TestODataErrorAndNotFound(t *testing.T) {
	status, body := NotFound("abc", "req-4")
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Error struct {
			Code, Message string
			InnerError    map[string]string `json:"innerError"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &parsed); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusNotFound || parsed.Error.Code != "Request_ResourceNotFound" || !strings.Contains(parsed.Error.Message, "'abc'") ||
		parsed.Error.InnerError["request-id"] != "req-4" || parsed.Error.InnerError["client-request-id"] != "inner-req-4" {
		t.Errorf("NotFound = %d %s", status, b)
	}
}

func TestDoubles(t *testing.T) {
	ctx := context.Background()
	var c Credential
	tok, err := c.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"s1"}})
	if err != nil || tok.Token != Token {
		t.Errorf("GetToken = %q, %v; want Token", tok.Token, err)
	}
	boom := errors.New("boom")
	c.SetErr(boom)
	if _, err := c.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"s2"}}); !errors.Is(err, boom) {
		t.Errorf("GetToken after SetErr = %v, want boom", err)
	}
	if got, want := c.Scopes(), [][]string{{"s1"}, {"s2"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Scopes() = %v, want %v", got, want)
	}

	var s Sleeper
	if err := s.Sleep(ctx, time.Second); err != nil {
		t.Errorf("Sleep = %v", err)
	}
	s.SetErr(context.Canceled)
	if err := s.Sleep(ctx, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep after SetErr = %v, want context.Canceled", err)
	}
	if got, want := s.Waits(), []time.Duration{time.Second, time.Minute}; !reflect.DeepEqual(got, want) {
		t.Errorf("Waits() = %v, want %v", got, want)
	}

	var buf Buffer
	Logger(&buf).Debug("hello", "user_oid", "u-1")
	if out := buf.String(); !strings.Contains(out, `"msg":"hello"`) || !strings.Contains(out, `"user_oid":"u-1"`) {
		t.Errorf("debug log line = %q", out)
	}
	if Cloud(t).GraphURL == "" {
		t.Error("Cloud returned a cloud without a graph url")
	}
}
