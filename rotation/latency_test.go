package rotation_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
)

// azureLatency is the delay injected into every call to Entra ID (Graph
// and the token endpoint) and Key Vault in BenchmarkRotateAzureLatency.
const azureLatency = 50 * time.Millisecond

// slowAzure delays every Azure call by azureLatency in real time and
// records when each ran, to count the round trips on the critical path.
type slowAzure struct {
	mu    sync.Mutex
	spans [][2]time.Time
}

func (s *slowAzure) call() func() {
	start := time.Now()
	time.Sleep(azureLatency) // the injected network latency itself
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.spans = append(s.spans, [2]time.Time{start, time.Now()})
	}
}

// sequential returns how many calls were made and how many of them lie on
// the critical path: overlapping calls count once.
func (s *slowAzure) sequential() (calls, onPath int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	spans := slices.Clone(s.spans)
	slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	var end time.Time
	for _, sp := range spans {
		if sp[0].After(end) || sp[0].Equal(end) {
			onPath++
		}
		end = later(end, sp[1])
	}
	return len(spans), onPath
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

type slowApps struct {
	rotation.Applications
	s *slowAzure
}

func (a slowApps) GetApp(ctx context.Context, id string) (rotation.App, error) {
	defer a.s.call()()
	return a.Applications.GetApp(ctx, id)
}

func (a slowApps) AddPassword(ctx context.Context, objectID, name string, end time.Time) (rotation.NewPassword, error) {
	defer a.s.call()()
	return a.Applications.AddPassword(ctx, objectID, name, end)
}

func (a slowApps) RemovePassword(ctx context.Context, objectID, keyID string) error {
	defer a.s.call()()
	return a.Applications.RemovePassword(ctx, objectID, keyID)
}

type slowVault struct {
	rotation.Vault
	s *slowAzure
}

func (v slowVault) Get(ctx context.Context, ref rotation.SecretRef) (rotation.StoredSecret, error) {
	defer v.s.call()()
	return v.Vault.Get(ctx, ref)
}

func (v slowVault) Set(ctx context.Context, ref rotation.SecretRef, value rotation.Secret, p rotation.SecretProps) (rotation.StoredSecret, error) {
	defer v.s.call()()
	return v.Vault.Set(ctx, ref, value, p)
}

func (v slowVault) Recover(ctx context.Context, ref rotation.SecretRef) error {
	defer v.s.call()()
	return v.Vault.Recover(ctx, ref)
}

type slowVerifier struct {
	rotation.Verifier
	s *slowAzure
}

func (v slowVerifier) Verify(ctx context.Context, clientID string, secret rotation.Secret) error {
	defer v.s.call()()
	return v.Verifier.Verify(ctx, clientID, secret)
}

// BenchmarkRotateAzureLatency runs whole rotations in real time against
// the in-memory directory and vault with 50 ms added to every Azure call
// (the journal and audit trail are local and not delayed), and reports
// the wall time, the Azure calls made and how many of them are sequential
// on the critical path. The wall time includes the policy's deliberate
// pause between successful verifications. docs/performance.md quotes it:
//
//	go test -run XXX -bench RotateAzureLatency -benchtime 3x ./rotation/
func BenchmarkRotateAzureLatency(b *testing.B) {
	var calls, onPath int
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		clock := rotation.SystemClock{}
		dir := memory.NewDirectory(clock)
		dir.Propagation = 0
		dir.AddApp(rotation.App{ObjectID: objectID, ClientID: clientID, DisplayName: "Payments API", SignInAudience: "AzureADMyOrg"}, true)
		_, v := dir.AddExisting(clientID, "made in the portal", time.Now().Add(90*24*time.Hour))
		vault := memory.NewVault()
		ref := rotation.SecretRef{VaultURI: vaultURI, Name: "payments-api-client-secret"}
		if _, err := vault.Set(context.Background(), ref, rotation.NewSecret(v), rotation.SecretProps{}); err != nil {
			b.Fatal(err)
		}
		slow := &slowAzure{}
		p := rotation.DefaultPolicy()
		p.OwnClientID = ownID
		p.AllowedVaults = []string{vaultURI}
		r := &rotation.Rotator{
			Apps: slowApps{dir, slow}, Vault: slowVault{vault, slow}, Verifier: slowVerifier{dir.Verifier(), slow},
			Store: memory.NewStore(), Audit: &memory.AuditLog{}, Clock: clock, Policy: p,
			Log: slog.New(slog.DiscardHandler), ParallelVaultCalls: true,
		}
		b.StartTimer()
		if _, err := r.Rotate(context.Background(), request()); err != nil {
			b.Fatal(err)
		}
		calls, onPath = slow.sequential()
	}
	b.ReportMetric(float64(calls), "azure-calls/op")
	b.ReportMetric(float64(onPath), "sequential-round-trips/op")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "wall-ms/op")
}
