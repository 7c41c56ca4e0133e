package connector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
)

func TestConversationMembers(t *testing.T) {
	var path, auth, method string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, auth, method = r.URL.EscapedPath(), r.Header.Get("Authorization"), r.Method
		_, _ = w.Write([]byte(`[{"id":"29:a","name":"Ann","aadObjectId":"00000000-0000-4000-8000-00000000000a","userPrincipalName":"ann@x"},{"id":"29:b","name":"Ben"}]`))
	}))
	defer srv.Close()
	c, err := New(Config{HTTP: srv.Client(), AllowedServiceURL: func(string) bool { return true },
		Tokens: NewCachingTokenSource(func(context.Context) (string, time.Time, error) { return "tok", time.Now().Add(time.Hour), nil }, nil)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ConversationMembers(context.Background(), activity.ConversationReference{ServiceURL: srv.URL + "/", ConversationID: "19:ch@thread.tacv2;messageid=42"})
	if err != nil {
		t.Fatal(err)
	}
	if method != http.MethodGet || path != "/v3/conversations/19:ch@thread.tacv2/members" || auth != "Bearer tok" {
		t.Fatalf("%s %s %q", method, path, auth)
	}
	if len(got) != 2 || got[0].AADObjectID != "00000000-0000-4000-8000-00000000000a" || got[1].ID != "29:b" {
		t.Fatalf("%+v", got)
	}
	c2, _ := New(Config{HTTP: srv.Client(), AllowedServiceURL: func(string) bool { return false },
		Tokens: NewCachingTokenSource(func(context.Context) (string, time.Time, error) { return "tok", time.Now().Add(time.Hour), nil }, nil)})
	if _, err := c2.ConversationMembers(context.Background(), activity.ConversationReference{ServiceURL: srv.URL + "/", ConversationID: "19:ch"}); err == nil {
		t.Fatal("listed members at a service URL that is not allowed")
	}
}
