package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
)

const (
	hrClient = "66666666-6666-4666-8666-666666666666"
	hrObject = "55555555-5555-4555-8555-555555555555"
)

// TestPreflightRefusesAnAppKeyturnDoesNotOwn (issue 8, finding 2): Graph
// lets Keyturn read an app it does not own, so the read alone proves
// nothing. Plan, and therefore the approval card, must refuse it with the
// command that fixes it, and Open must store no request.
func TestPreflightRefusesAnAppKeyturnDoesNotOwn(t *testing.T) {
	e := newApprovalEnv(t)
	e.dir.AddApp(rotation.App{ObjectID: hrObject, ClientID: hrClient, DisplayName: "HR Legacy",
		Owners: []rotation.Principal{{ObjectID: "00000000-0000-4000-8000-0000000000c0", Name: "Someone"}}}, false)
	_, err := e.ap.Rotator.Plan(context.Background(), rotation.Request{ClientID: hrClient, VaultURI: vaultURI})
	var no *rotation.NotOwnerError
	if !errors.Is(err, rotation.ErrNotOwner) || !errors.As(err, &no) {
		t.Fatalf("plan of an app Keyturn does not own: %v", err)
	}
	want := "az ad app owner add --id " + hrClient + " --owner-object-id " + memory.KeyturnPrincipalID
	if no.Command() != want || !strings.Contains(err.Error(), want) {
		t.Fatalf("advice %q, error %q; want %q", no.Command(), err, want)
	}
	_, err = e.ap.Open(context.Background(), rotation.Ask{Caller: alice, TenantID: tenant, Conversation: conv,
		Request: rotation.Request{ClientID: hrClient, VaultURI: vaultURI}})
	if !errors.Is(err, rotation.ErrNotOwner) {
		t.Fatalf("open: %v", err)
	}
	if open, _ := e.store.ListApprovals(context.Background()); len(open) != 0 {
		t.Fatalf("a request was stored for an app Keyturn cannot change: %+v", open)
	}
	if ev := e.lastEvent(); ev.Type != rotation.EventDenied || ev.ClientID != hrClient {
		t.Fatalf("refusal not audited: %+v", ev)
	}
	// An owned app passes: Keyturn is among its owners.
	if _, err := e.ap.Rotator.Plan(context.Background(), rotation.Request{ClientID: clientID, VaultURI: vaultURI}); err != nil {
		t.Fatalf("plan of an owned app: %v", err)
	}
}

// TestOwnerCheckNeedsAPrincipalAndACompleteList: without Keyturn's
// principal (a person running the CLI) there is nothing to check; and a
// list of 20 owners may be Graph's cut-off page of an expanded property,
// so it cannot prove Keyturn missing: Graph decides at addPassword then.
func TestOwnerCheckNeedsAPrincipalAndACompleteList(t *testing.T) {
	w := newWorld(t)
	var owners []rotation.Principal
	for i := range 20 {
		owners = append(owners, rotation.Principal{ObjectID: fmt.Sprintf("00000000-0000-4000-8000-%012d", 900+i)})
	}
	w.dir.AddApp(rotation.App{ObjectID: hrObject, ClientID: hrClient, DisplayName: "HR Legacy", Owners: owners}, false)
	if _, err := w.rotator(false).Plan(context.Background(), rotation.Request{ClientID: hrClient, VaultURI: vaultURI}); err != nil {
		t.Fatalf("twenty owners listed: %v", err)
	}
	r := w.rotator(false)
	r.PrincipalID = ""
	w.dir.AddApp(rotation.App{ObjectID: hrObject, ClientID: hrClient, DisplayName: "HR Legacy"}, false)
	if _, err := r.Plan(context.Background(), rotation.Request{ClientID: hrClient, VaultURI: vaultURI}); err != nil {
		t.Fatalf("no principal configured: %v", err)
	}
}
