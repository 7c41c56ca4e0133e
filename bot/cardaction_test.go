package bot

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

// A click whose data is half valid (the right request and digest, a field
// of the wrong type) is refused whole: the request is not decided, and a
// secret pasted into the reason reaches no log, post or audit record.
func TestMalformedCardDataDecidesNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if code, _ := h.sendSigned(as(t, fixture(t, "activity/channel_mention.json"), devOID)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, "the approval card", func() bool { return len(h.conn.all()) >= 1 })
	m := actionRE.FindStringSubmatch(h.conn.all()[0].Raw)
	if m == nil {
		t.Fatal("no request in the card")
	}
	for i, extra := range []map[string]any{{"reason": []string{fuzzCanary}}, {"reason": 5}, {"requestId": m[1], "digest": 7}} {
		_, resp := h.invoke(t, adminOID, fmt.Sprintf("inv-bad-%d", i), "approve", m[1], m[2], extra)
		if resp["statusCode"] != float64(http.StatusBadRequest) || !strings.Contains(fmt.Sprint(resp["value"]), "could not be read") {
			t.Fatalf("data %v: %v", extra, resp)
		}
	}
	for _, e := range h.audit.Events() {
		if e.Type == rotation.EventApproved || e.Type == rotation.EventStarted {
			t.Fatalf("malformed data decided the request: %v", h.audit.Types())
		}
	}
	// The well-formed click still works.
	if _, resp := h.invoke(t, adminOID, "inv-good", "approve", m[1], m[2], nil); resp["statusCode"] != float64(http.StatusOK) {
		t.Fatalf("approve: %v", resp)
	}
	h.noCanary(t)
}
