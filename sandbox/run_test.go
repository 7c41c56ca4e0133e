package sandbox

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// serveFake returns a ServeBot that serves bot on the listener until ctx
// ends, and a channel closed when it has returned.
func serveFake(bot http.Handler) (func(ctx context.Context, ln net.Listener) error, chan struct{}) {
	done := make(chan struct{})
	return func(ctx context.Context, ln net.Listener) error {
		defer close(done)
		srv := &http.Server{Handler: bot}
		go func() {
			<-ctx.Done()
			_ = srv.Shutdown(context.Background())
		}()
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, done
}

// runOnce runs the sandbox until it is ready, checks it, and stops it.
func runOnce(t *testing.T, w *World, bot *fakeBot, check func(pageURL string)) {
	t.Helper()
	serve, served := serveFake(bot)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	var out strings.Builder
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{World: w, ServeBot: serve, BotAddr: "127.0.0.1:0", Addr: "127.0.0.1:0", Out: &out, Ready: func(u string) { ready <- u }})
	}()
	var pageURL string
	select {
	case pageURL = <-ready:
	case err := <-errc:
		t.Fatalf("Run ended before it was ready: %v", err)
	}
	check(pageURL)
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case <-served:
	default:
		t.Fatal("Run returned before the bot's Serve did")
	}
	if !strings.Contains(out.String(), pageURL) || !strings.Contains(out.String(), w.TenantFile()) {
		t.Errorf("the banner does not name the page and the tenant file:\n%s", out.String())
	}
}

func TestRunGreetsTheBotAndStops(t *testing.T) {
	w := openWorld(t, t.TempDir())
	bot := &fakeBot{}
	runOnce(t, w, bot, func(pageURL string) {
		resp, err := http.Get(pageURL + "api/tenant")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("page: %v", err)
		}
		resp.Body.Close()
	})
	var kinds []string
	for _, a := range bot.activities() {
		kinds = append(kinds, a.Type+":"+a.Action+a.ChannelData.EventType+strings.TrimPrefix(a.Text, "<at>Keyturn</at> "))
		if !strings.HasPrefix(a.ServiceURL, "http://127.0.0.1:") || !strings.HasSuffix(a.ServiceURL, "/connector/") {
			t.Errorf("service URL %q", a.ServiceURL)
		}
	}
	want := "installationUpdate:add,conversationUpdate:channelRenamed,installationUpdate:add,conversationUpdate:channelRenamed," +
		"installationUpdate:add,conversationUpdate:channelRenamed,message:audit here,message:radar here"
	if got := strings.Join(kinds, ","); got != want {
		t.Fatalf("first start told the bot\n%s\nwant\n%s", got, want)
	}
	for _, a := range bot.activities()[6:] {
		if a.From.Name != "Adele Vance" {
			t.Errorf("%q was said by %s, not the first approver", a.Text, a.From.Name)
		}
	}

	// A restart only announces the channels: installation and the audit
	// and radar channels are remembered.
	bot2 := &fakeBot{}
	runOnce(t, w, bot2, func(string) {})
	kinds = kinds[:0]
	for _, a := range bot2.activities() {
		kinds = append(kinds, a.Type)
	}
	if got := strings.Join(kinds, ","); got != "conversationUpdate,conversationUpdate,conversationUpdate" {
		t.Fatalf("a restart told the bot %s", got)
	}
}

func TestRunWithARunningBot(t *testing.T) {
	w := openWorld(t, t.TempDir())
	bot := &fakeBot{}
	botSrv := httptest.NewServer(bot)
	defer botSrv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		errc <- Run(ctx, Options{World: w, BotURL: botSrv.URL, Addr: "127.0.0.1:0", Ready: func(u string) { ready <- u }})
	}()
	select {
	case <-ready:
	case err := <-errc:
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if len(bot.activities()) != 8 {
		t.Errorf("the bot was greeted with %d activities", len(bot.activities()))
	}
}

func TestRunRefusesWhatIsNotLoopback(t *testing.T) {
	w := openWorld(t, t.TempDir())
	serve := func(context.Context, net.Listener) error { return nil }
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"no world", Options{ServeBot: serve}, "required"},
		{"no bot", Options{World: w}, "exactly one"},
		{"two bots", Options{World: w, ServeBot: serve, BotURL: "http://127.0.0.1:1"}, "exactly one"},
		{"remote bot", Options{World: w, BotURL: "http://192.0.2.1:3978"}, "loopback"},
		{"page on all interfaces", Options{World: w, ServeBot: serve, BotAddr: "127.0.0.1:0", Addr: "0.0.0.0:0"}, "loopback"},
		{"bot on all interfaces", Options{World: w, ServeBot: serve, BotAddr: ":0", Addr: "127.0.0.1:0"}, "loopback"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := Run(ctx, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}
