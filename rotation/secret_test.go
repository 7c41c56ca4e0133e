package rotation_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

const canary = "Xy9~CANARY~value/with+url&unsafe=chars"

type holder struct {
	Name   string
	secret rotation.Secret // unexported: fmt cannot call its methods
	Pub    rotation.Secret
	Ptr    *rotation.Secret
	Any    any
}

func TestSecretNeverPrints(t *testing.T) {
	s := rotation.NewSecret(canary)
	h := holder{Name: "x", secret: s, Pub: s, Ptr: &s, Any: s}
	np := rotation.NewPassword{Secret: s}
	var out []string
	for _, v := range []any{s, &s, h, &h, np, []rotation.Secret{s}, map[string]rotation.Secret{"k": s}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T", "%d"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	var logs bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&logs, nil))
	l.Info("m", "secret", s, "holder", h, "np", np)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("m", "secret", s, "holder", h)
	out = append(out, logs.String(), fmt.Errorf("wrapped %v: %w", s, errors.New("x")).Error())
	for _, o := range out {
		if strings.Contains(o, canary) || strings.Contains(o, "CANARY") || strings.Contains(o, "Xy9") {
			t.Fatalf("secret printed: %s", o)
		}
	}
	if !strings.Contains(fmt.Sprint(s), rotation.Redacted) {
		t.Fatal("redaction marker missing")
	}
	if s.Reveal() != canary || s.Hint() != "Xy9" || s.IsZero() || !rotation.NewSecret("").IsZero() {
		t.Fatal("Reveal/Hint/IsZero broken")
	}
}

func dayDur(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func TestPolicy(t *testing.T) {
	p := rotation.DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := rotation.Policy{OwnClientID: "nope", AllowedVaults: []string{"kv"}, SecretNamePrefixes: []string{"a_b"}, DefaultLifetime: -1, Overlap: -1}
	err := bad.Validate()
	for _, want := range []string{"own client ID", "lifetime bounds", "default lifetime", "overlap", "verify attempts", "verify deadline", "allowed vault", "prefix"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %q: %v", want, err)
		}
	}
	for _, c := range []struct {
		in, want int
		clamped  bool
	}{{0, 180, false}, {30, 30, false}, {0, 180, false}, {400, 365, true}} {
		d, cl := p.Lifetime(dayDur(c.in))
		if d != dayDur(c.want) || cl != c.clamped {
			t.Errorf("Lifetime(%dd) = %s %v", c.in, d, cl)
		}
	}
	if d, cl := p.Lifetime(dayDur(1) / 2); d != dayDur(1) || !cl {
		t.Errorf("half a day: %s %v", d, cl)
	}
	p.SecretNamePrefixes = []string{"payments-"}
	if !p.SecretNameAllowed("Payments-x") || p.SecretNameAllowed("hr-x") || p.SecretNameAllowed("payments-a.b") {
		t.Error("prefix rule broken")
	}
	if !rotation.IsGUID("11111111-1111-4111-8111-11111111111A") || rotation.IsGUID("11111111-1111-4111-8111-11111111111") || rotation.IsGUID("11111111x1111-4111-8111-111111111111") {
		t.Error("IsGUID broken")
	}
	if a, b := rotation.DefaultSecretNames("Payments API (prod)", "x"); a != "payments-api-prod-client-id" || b != "payments-api-prod-client-secret" {
		t.Errorf("names %s %s", a, b)
	}
	if a, _ := rotation.DefaultSecretNames("日本", "ABC"); a != "app-abc-client-id" {
		t.Errorf("fallback name %s", a)
	}
}

// TestStandardLibraryOnly enforces the package's rule: rotation imports
// nothing outside the standard library.
func TestStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/keyturn/keyturn/rotation" {
			t.Errorf("rotation depends on %s", p)
		}
	}
}
