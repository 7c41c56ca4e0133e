package graphroles

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/internal/outbound"
	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/rotation"
)

// noVaults is a radar.VaultSecrets with nothing in it.
type noVaults struct{}

func (noVaults) List(context.Context, string) ([]rotation.StoredSecret, error) {
	return nil, nil
}

// BenchmarkRadarScan2000OwnedApps scans a tenant where Keyturn owns 2,000
// apps of two credentials each, through the real SDK adapter against a
// loopback Graph that answers each page after latency (Graph's own pages
// of 999 applications with their credentials take a few hundred ms). It
// reports the wall time of a scan and the heap in use at its end.
//
//	go test -run XXX -bench RadarScan -benchtime 3x ./azure/graphroles/
func BenchmarkRadarScan2000OwnedApps(b *testing.B) {
	const apps, latency = 2000, 300 * time.Millisecond
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	items := make([]any, apps)
	for i := range items {
		a := ownedApp(i, now.Add(time.Duration(400-i%400)*24*time.Hour))
		creds := a["passwordCredentials"].([]any)
		second := map[string]any{"keyId": guid(40000 + i), "displayName": "by hand", "hint": "xyz",
			"startDateTime": now.Format(time.RFC3339), "endDateTime": now.Add(700 * 24 * time.Hour).Format(time.RFC3339)}
		a["passwordCredentials"] = append(creds, second)
		items[i] = a
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency) // the service's answer time, not synchronisation
		start, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
		end := min(start+999, len(items))
		page := map[string]any{"value": items[start:end]}
		if end < len(items) {
			q := r.URL.Query()
			q.Set("$skiptoken", strconv.Itoa(end))
			page["@odata.nextLink"] = "http://" + r.Host + r.URL.Path + "?" + q.Encode()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	}))
	defer srv.Close()
	c, err := New(&graphtest.Credential{}, graphtest.Cloud(b), outbound.Client(outbound.Transport(nil)),
		Options{BaseURL: srv.URL + "/v1.0", ServicePrincipalID: testSPID})
	if err != nil {
		b.Fatal(err)
	}
	s := &radar.Scanner{Apps: c, Vault: noVaults{}, Vaults: []string{"https://kv-a.vault.azure.net/"}}
	var ms runtime.MemStats
	b.ResetTimer()
	for range b.N {
		rep, err := s.Scan(context.Background(), now)
		if err != nil || rep.AppsSeen != apps {
			b.Fatalf("%v: %d apps seen", err, rep.AppsSeen)
		}
		if len(rep.Apps) == 0 {
			b.Fatal("nothing inside the window")
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap-after")
	b.ReportMetric(float64(apps), "apps")
}
