package bot

// The fault matrix's rows and columns: which calls fail, in which ways, and
// what each adapter would report of each way.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

// faultClasses are the matrix's columns, in order.
var faultClasses = []string{"error", "429", "5xx", "timeout", "reset", "malformed", "lag", "undo"}

// ambiguousClasses leave the call's outcome unknown to Keyturn.
var ambiguousClasses = map[string]bool{"5xx": true, "timeout": true, "reset": true, "malformed": true, "lag": true}

// play is how a (call, class) pair is injected: kind and the error the
// adapter would return (nil: the kind's own), or why the class does not
// apply to the call.
type play struct {
	kind rotationtest.Kind
	err  error
	na   string
}

// A faultRow is one external call.
type faultRow struct {
	name  string
	op    string // the rotationtest.Faults op; "" for the connector's rows
	conn  string // the connector's rows: http.MethodPost or http.MethodPut
	n     int    // the call of op to fail; 0: the first after the approver's click
	setup func(fr *faultRun)
	plays map[string]play
}

// graphPlays: what azure/graphapps' translate makes of each class. 429 is
// retried after Retry-After by graphcore's loop and reported as
// ErrThrottled when it outlasts the retries; 5xx (503/504 on a write, any
// 5xx on a read after retries), a timeout, a reset and a 2xx whose body
// cannot be read are ErrAmbiguous: the write may exist. Listings lag as
// directory replicas do.
func graphPlays() map[string]play {
	return map[string]play{
		"error":     {kind: rotationtest.Fail},
		"429":       {kind: rotationtest.Fail, err: fmt.Errorf("graph refused the request (status 429, after the retries Retry-After allowed): %w", rotation.ErrThrottled)},
		"5xx":       {kind: rotationtest.TimeoutAfter, err: fmt.Errorf("%w (status 503)", rotation.ErrAmbiguous)},
		"timeout":   {kind: rotationtest.TimeoutBefore},
		"reset":     {kind: rotationtest.TimeoutAfter, err: fmt.Errorf("%w: read tcp: %w", rotation.ErrAmbiguous, syscall.ECONNRESET)},
		"malformed": {kind: rotationtest.TimeoutAfter, err: fmt.Errorf("%w: the response could not be read", rotation.ErrAmbiguous)},
		"lag":       {kind: rotationtest.LagTimeoutAfter},
		"undo":      {kind: rotationtest.UndoFails},
	}
}

// vaultPlays: what azure/keyvault's translate makes of each class. azcore
// retries 429 after Retry-After and 5xx before giving up; then 429 is
// ErrThrottled, 5xx, a timeout, a reset and an unreadable answer
// ErrAmbiguous. Key Vault reads its own writes: no listing lags.
func vaultPlays() map[string]play {
	p := graphPlays()
	p["429"] = play{kind: rotationtest.Fail, err: fmt.Errorf("%w (status 429, after azcore's retries)", rotation.ErrThrottled)}
	p["lag"] = play{na: "Key Vault reads its own writes"}
	return p
}

// verifyPlays: what azure/identity's Verifier makes of each class. A
// refusal that is not "not yet valid" is a plain error, and so are 429
// and 5xx (the token endpoint's status is kept, the body is not); no
// answer is "no answer from the token endpoint". The lag of a token
// endpoint is a new secret it does not accept yet (AADSTS7000215).
func verifyPlays() map[string]play {
	refused := func(status int) error {
		return fmt.Errorf("verify secret of app %s: token endpoint refused (status %d)", payments, status)
	}
	noAnswer := fmt.Errorf("verify secret of app %s: no answer from the token endpoint", payments)
	return map[string]play{
		"error":     {kind: rotationtest.Fail, err: refused(401)},
		"429":       {kind: rotationtest.Fail, err: refused(429)},
		"5xx":       {kind: rotationtest.Fail, err: refused(503)},
		"timeout":   {kind: rotationtest.Fail, err: noAnswer},
		"reset":     {kind: rotationtest.Fail, err: noAnswer},
		"malformed": {kind: rotationtest.Fail, err: refused(200)},
		"lag":       {kind: rotationtest.Fail, err: fmt.Errorf("verify secret of app %s: %w (status 401, codes AADSTS7000215)", payments, rotation.ErrNotYetValid)},
		"undo":      {kind: rotationtest.UndoFails},
	}
}

// storePlays: what the state store reports (store/tablekv on Azure
// Tables, after azcore's retries; bbolt fails only as "error"). A 429 or
// 5xx is a plain error there, and a write may have landed behind a 5xx or
// a reset. Tables and bbolt read their own writes: no listing lags.
func storePlays(write bool) map[string]play {
	p := map[string]play{
		"error":   {kind: rotationtest.Fail},
		"429":     {kind: rotationtest.Fail, err: errors.New("azure tables: HTTP 429 TooManyRequests")},
		"5xx":     {kind: rotationtest.TimeoutAfter, err: errors.New("azure tables: HTTP 503 ServerBusy")},
		"timeout": {kind: rotationtest.TimeoutBefore, err: fmt.Errorf("azure tables: %w", context.DeadlineExceeded)},
		"reset":   {kind: rotationtest.TimeoutAfter, err: fmt.Errorf("azure tables: read tcp: %w", syscall.ECONNRESET)},
		"lag":     {na: "the store reads its own writes"},
		"undo":    {kind: rotationtest.UndoFails},
	}
	if write {
		p["malformed"] = play{na: "a write's answer is a status and an ETag, no body"}
	} else {
		p["malformed"] = play{kind: rotationtest.Fail, err: errors.New("decode journal record: unexpected end of JSON input")}
	}
	return p
}

// connectorPlays: the connector is reached through the capture server's
// transport, so its rows play HTTP itself. bot/connector retries 429 and
// 503 after Retry-After (on the fake clock); other statuses are final.
func connectorPlays() map[string]play {
	return map[string]play{
		"lag":  {na: "a post is not a listing"},
		"undo": {na: "a post has nothing to undo: it changes no credential"},
	}
}

var faultRows = []faultRow{
	{name: "Graph list (GetApp), at the request", op: "apps.GetApp", n: 1, plays: graphPlays()},
	{name: "Key Vault get, at the request", op: "vault.Get", n: 1, plays: vaultPlays()},
	{name: "approval store write (Create)", op: "approvals.Create", n: 1, plays: storePlays(true)},
	{name: "Graph list (GetApp)", op: "apps.GetApp", plays: graphPlays()},
	{name: "Graph add password", op: "apps.AddPassword", plays: graphPlays()},
	{name: "Graph remove password", op: "apps.RemovePassword", plays: graphPlays()},
	{name: "Key Vault get", op: "vault.Get", plays: vaultPlays()},
	{name: "Key Vault set", op: "vault.Set", plays: vaultPlays()},
	{name: "Key Vault recover", op: "vault.Recover", plays: vaultPlays(), setup: softDeletedClientID},
	{name: "Key Vault list", op: "vault.List", plays: vaultPlays()},
	{name: "token (verify)", op: "verify", plays: verifyPlays()},
	{name: "store write (Begin)", op: "store.Begin", plays: storePlays(true)},
	{name: "store write (Save)", op: "store.Save", plays: storePlays(true)},
	{name: "store read (List)", op: "store.List", plays: storePlays(false)},
	{name: "approval store write (Update)", op: "approvals.Update", plays: storePlays(true)},
	{name: "approval store read (Get)", op: "approvals.Get", plays: storePlays(false)},
	{name: "connector post (card)", conn: http.MethodPost, plays: connectorPlays()},
	{name: "connector update (card)", conn: http.MethodPut, plays: connectorPlays()},
}

// softDeletedClientID seeds the client-ID secret and soft-deletes it, so
// that the rotation must recover its name before writing it.
func softDeletedClientID(fr *faultRun) {
	ref := rotation.SecretRef{VaultURI: testVault, Name: "payments-api-client-id"}
	if _, err := fr.h.vault.Set(context.Background(), ref, rotation.NewSecret(payments), rotation.SecretProps{}); err != nil {
		fr.t.Fatal(err)
	}
	fr.h.vault.SoftDelete(ref)
}

// connectorFault fails the n-th request with method (typing indicators
// and member lists aside) once, as class says; texts collects every body
// sent, delivered or not, for the canary check.
func connectorFault(fr *faultRun, method string, n int, class string) func(*http.Request, []byte) (*http.Response, error) {
	seen := 0
	return func(r *http.Request, body []byte) (*http.Response, error) {
		fr.mu.Lock()
		defer fr.mu.Unlock()
		fr.texts = append(fr.texts, string(body))
		if r.Method != method || bytes.Contains(body, []byte(`"type":"typing"`)) {
			return nil, nil
		}
		if seen++; seen != n {
			return nil, nil
		}
		answer := func(status int, h http.Header, body string) (*http.Response, error) {
			if h == nil {
				h = http.Header{}
			}
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		}
		switch class {
		case "error":
			return answer(http.StatusBadRequest, nil, `{"error":{"code":"BadArgument","message":"bad"}}`)
		case "429":
			return answer(http.StatusTooManyRequests, http.Header{"Retry-After": {"3"}}, `{}`)
		case "5xx":
			return answer(http.StatusInternalServerError, nil, `{"error":{"code":"ServiceError"}}`)
		case "timeout": // the client gave up before Teams took the request
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
		case "reset": // Teams took it, then the connection broke before the answer
			resp, err := fr.h.conn.RoundTripClean(r)
			if err == nil {
				resp.Body.Close()
			}
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
		case "malformed": // Teams took it; its answer is not JSON
			resp, err := fr.h.conn.RoundTripClean(r)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
			return answer(http.StatusOK, nil, `<html>upstream`)
		}
		return nil, nil
	}
}
