package tablekv

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/keyturn/keyturn/store/kv"
)

// fakeCred hands out a fixed token.
type fakeCred struct{}

func (fakeCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "test-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// recorded is one request the fake service saw.
type recorded struct {
	method, path, query, ifMatch, auth string
	body                               map[string]any
}

// fakeService is a policy.Transporter answering every request with the
// next canned response, recording the request.
type fakeService struct {
	mu       sync.Mutex
	requests []recorded
	replies  []*http.Response
}

func (f *fakeService) Do(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := recorded{
		method: req.Method, path: req.URL.Path, query: req.URL.Query().Get("$filter"),
		ifMatch: req.Header.Get("If-Match"), auth: req.Header.Get("Authorization"),
	}
	if req.Body != nil {
		raw, _ := io.ReadAll(req.Body)
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &r.body); err != nil {
				return nil, err
			}
		}
	}
	f.requests = append(f.requests, r)
	if len(f.replies) == 0 {
		return nil, errors.New("fake service: no reply left")
	}
	resp := f.replies[0]
	f.replies = f.replies[1:]
	resp.Request = req
	return resp, nil
}

// reply builds a canned response.
func reply(status int, etag, code, body string) *http.Response {
	h := http.Header{"Content-Type": {"application/json;odata=minimalmetadata"}}
	if etag != "" {
		h.Set("ETag", etag)
	}
	if code != "" {
		h.Set("x-ms-error-code", code)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

// TestRequests checks, without a service, how each operation reaches the
// wire: paths with quoted keys, If-Match, replace (PUT) rather than merge,
// the Edm.Binary value, the list filter and bearer authentication.
func TestRequests(t *testing.T) {
	const etag = `W/"datetime'2030-01-02T03%3A04%3A05.6Z'"`
	f := &fakeService{replies: []*http.Response{
		reply(200, etag, "", `{"PartitionKey":"refs","RowKey":"a'b c","v@odata.type":"Edm.Binary","v":"AAH/"}`),
		reply(201, etag, "", `{}`),
		reply(204, `W/"next"`, "", ``),
		reply(412, "", "UpdateConditionNotSatisfied", ``),
		reply(404, "", "ResourceNotFound", ``),
		reply(204, "", "", ``),
		reply(200, "", "", `{"value":[{"RowKey":"a'b","v@odata.type":"Edm.Binary","v":"","odata.etag":"W/\"e\""}]}`),
		reply(409, "", "EntityAlreadyExists", ``),
	}}
	s, err := NewWithCredential("https://acct.table.core.windows.net", fakeCred{}, Options{Table: "keyturnTest", Transport: f})
	if err != nil {
		t.Fatalf("NewWithCredential: %v", err)
	}
	ctx := t.Context()
	it, err := s.Get(ctx, kv.TableRefs, "a'b c")
	if err != nil || it.Key != "a'b c" || string(it.Value) != "\x00\x01\xff" || it.ETag != etag {
		t.Fatalf("Get = %+v, %v", it, err)
	}
	if got, err := s.Create(ctx, kv.TableRefs, "k", []byte("hi")); err != nil || got != etag {
		t.Fatalf("Create = %q, %v", got, err)
	}
	if got, err := s.Update(ctx, kv.TableRefs, "k", []byte("yo"), etag); err != nil || got != `W/"next"` {
		t.Fatalf("Update = %q, %v", got, err)
	}
	if _, err := s.Update(ctx, kv.TableRefs, "k", []byte("yo"), etag); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("Update on 412 = %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, kv.TableRefs, "gone", etag); err != nil {
		t.Fatalf("Delete on 404 = %v, want nil", err)
	}
	if err := s.Delete(ctx, kv.TableRefs, "k", ""); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	items, err := s.List(ctx, kv.TableRefs, "a'", 5)
	if err != nil || len(items) != 1 || items[0].Key != "a'b" || items[0].ETag != `W/"e"` || len(items[0].Value) != 0 {
		t.Fatalf("List = %+v, %v", items, err)
	}
	if _, err := s.Create(ctx, kv.TableRefs, "k", nil); !errors.Is(err, kv.ErrExists) {
		t.Fatalf("Create on 409 = %v, want ErrExists", err)
	}

	want := []recorded{
		{method: "GET", path: "/keyturnTest(PartitionKey='refs',RowKey='a''b c')"},
		{method: "POST", path: "/keyturnTest", body: map[string]any{
			"PartitionKey": "refs", "RowKey": "k", "v": "aGk=", "v@odata.type": "Edm.Binary"}},
		{method: "PUT", path: "/keyturnTest(PartitionKey='refs',RowKey='k')", ifMatch: etag, body: map[string]any{
			"PartitionKey": "refs", "RowKey": "k", "v": "eW8=", "v@odata.type": "Edm.Binary"}},
		{method: "PUT", path: "/keyturnTest(PartitionKey='refs',RowKey='k')", ifMatch: etag},
		{method: "DELETE", path: "/keyturnTest(PartitionKey='refs',RowKey='gone')", ifMatch: etag},
		{method: "DELETE", path: "/keyturnTest(PartitionKey='refs',RowKey='k')", ifMatch: "*"},
		{method: "GET", path: "/keyturnTest()", query: "PartitionKey eq 'refs' and RowKey ge 'a''' and RowKey lt 'a('"},
		{method: "POST", path: "/keyturnTest"},
	}
	if len(f.requests) != len(want) {
		t.Fatalf("service saw %d requests, want %d", len(f.requests), len(want))
	}
	for i, w := range want {
		g := f.requests[i]
		if g.method != w.method || g.path != w.path || g.query != w.query || g.ifMatch != w.ifMatch {
			t.Errorf("request %d = %s %s filter=%q If-Match=%q\nwant %s %s filter=%q If-Match=%q",
				i, g.method, g.path, g.query, g.ifMatch, w.method, w.path, w.query, w.ifMatch)
		}
		if g.auth != "Bearer test-token" {
			t.Errorf("request %d Authorization = %q", i, g.auth)
		}
		for k, v := range w.body {
			if g.body[k] != v {
				t.Errorf("request %d body[%s] = %v, want %v", i, k, g.body[k], v)
			}
		}
	}
}

func TestConstructors(t *testing.T) {
	for _, name := range []string{"ab", "1abc", "a-b-c", "tables", "Tables", strings.Repeat("a", 64), "kéy"} {
		if _, err := NewWithCredential("https://acct.table.core.windows.net", fakeCred{}, Options{Table: name}); !errors.Is(err, kv.ErrInvalid) {
			t.Errorf("table %q: %v, want ErrInvalid", name, err)
		}
	}
	s, err := NewWithCredential("https://acct.table.core.windows.net", fakeCred{}, Options{})
	if err != nil || s.Table() != DefaultTable {
		t.Fatalf("default table: %v, %v", s, err)
	}
	if _, err := NewWithCredential("https://acct.table.core.windows.net", nil, Options{}); err == nil {
		t.Error("nil credential accepted")
	}
	const key = "S3CRETKEY=="
	for _, cs := range []string{"AccountKey=" + key, "AccountName=a;AccountKey=" + key + ";Broken"} {
		_, err := NewFromConnectionString(cs, Options{})
		if err == nil {
			t.Errorf("connection string %d accepted", len(cs))
		} else if strings.Contains(err.Error(), key) {
			t.Errorf("error shows the account key: %v", err)
		}
	}
}
