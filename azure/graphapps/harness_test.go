package graphapps

import (
	"testing"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/internal/outbound"
)

// harness is a Client wired to a fakeGraph through the real SDK adapter and
// Keyturn's outbound transport.
type harness struct {
	graph *fakeGraph
	cred  *graphtest.Credential
	sleep *graphtest.Sleeper
	logs  *graphtest.Buffer
	c     *Client
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{graph: newFakeGraph(t), cred: &graphtest.Credential{}, sleep: &graphtest.Sleeper{}, logs: &graphtest.Buffer{}}
	var err error
	h.c, err = New(h.cred, graphtest.Cloud(t), outbound.Client(outbound.Transport(nil)), h.options())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func (h *harness) options() Options {
	return Options{
		Logger:             graphtest.Logger(h.logs),
		Sleep:              h.sleep.Sleep,
		BaseURL:            h.graph.URL + "/v1.0",
		ServicePrincipalID: testSPID,
	}
}
