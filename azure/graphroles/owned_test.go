package graphroles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/rotation"
)

// ownedApp is an application as Graph lists it under ownedObjects, with
// one password credential ending at end.
func ownedApp(n int, end time.Time) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.application",
		"id":          guid(10000 + n), "appId": guid(20000 + n), "displayName": fmt.Sprintf("App %d", n),
		"passwordCredentials": []any{map[string]any{
			"keyId": guid(30000 + n), "displayName": "keyturn r", "hint": "abc",
			"startDateTime": end.Add(-180 * 24 * time.Hour).Format(time.RFC3339), "endDateTime": end.Format(time.RFC3339),
			"secretText": nil, "customKeyIdentifier": nil,
		}},
	}
}

func TestOwnedAppsFollowsEveryPage(t *testing.T) {
	h := newHarness(t)
	end := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	h.graph.Lock()
	h.graph.pageSize = 7
	for i := range 20 {
		h.graph.owned = append(h.graph.owned, ownedApp(i, end))
	}
	h.graph.Unlock()

	var pages []int
	var apps []rotation.App
	err := h.c.OwnedApps(context.Background(), func(page []rotation.App) error {
		pages = append(pages, len(page))
		apps = append(apps, page...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(pages) != "[7 7 6]" {
		t.Fatalf("pages %v, want [7 7 6]: every next link followed, one page at a time", pages)
	}
	a := apps[19]
	if a.ClientID != guid(20019) || a.ObjectID != guid(10019) || a.DisplayName != "App 19" || len(a.Passwords) != 1 {
		t.Fatalf("app %+v", a)
	}
	if p := a.Passwords[0]; p.KeyID != guid(30019) || p.Hint != "abc" || !p.End.Equal(end) {
		t.Fatalf("credential %+v", p)
	}
}

func TestOwnedAppsWaitsOutThrottlingThenGivesUp(t *testing.T) {
	h := newHarness(t)
	h.graph.Lock()
	h.graph.owned = []any{ownedApp(1, time.Now())}
	h.graph.Unlock()
	h.graph.Inject(graphtest.Fault{Method: "GET", Suffix: "/microsoft.graph.application", Status: 429, Code: "TooManyRequests",
		Header: map[string]string{"Retry-After": "3"}})
	n := 0
	if err := h.c.OwnedApps(context.Background(), func(p []rotation.App) error { n += len(p); return nil }); err != nil || n != 1 {
		t.Fatalf("one 429 is waited out: %v, %d apps", err, n)
	}
	if w := h.sleep.Waits(); len(w) != 1 || w[0] != 3*time.Second {
		t.Fatalf("Retry-After honoured: waits %v", w)
	}

	h.graph.Inject(graphtest.Fault{Method: "GET", Suffix: "/microsoft.graph.application", Status: 429, Code: "TooManyRequests", Times: -1,
		Header: map[string]string{"Retry-After": "1"}})
	err := h.c.OwnedApps(context.Background(), func([]rotation.App) error { return nil })
	if !errors.Is(err, rotation.ErrThrottled) {
		t.Fatalf("throttled throughout: %v, want ErrThrottled", err)
	}
}

func TestOwnedAppsStopsWhenTheCallerDoes(t *testing.T) {
	h := newHarness(t)
	h.graph.Lock()
	h.graph.pageSize = 1
	h.graph.owned = []any{ownedApp(1, time.Now()), ownedApp(2, time.Now())}
	h.graph.Unlock()
	stop := errors.New("enough")
	if err := h.c.OwnedApps(context.Background(), func([]rotation.App) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("%v", err)
	}
	if n := h.graph.Count("GET", "/microsoft.graph.application"); n != 1 {
		t.Fatalf("%d requests after the caller stopped at the first page", n)
	}
}

func TestOwnedAppsNeedsTheServicePrincipal(t *testing.T) {
	h := newHarness(t)
	opts := h.options()
	opts.ServicePrincipalID = ""
	err := h.newClient(t, opts).OwnedApps(context.Background(), func([]rotation.App) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "KEYTURN_PRINCIPAL_ID") {
		t.Fatalf("%v", err)
	}
	if n := len(h.graph.Seen()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}
