package sandbox

import (
	"embed"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/keyturn/keyturn/third_party/adaptivecards"
)

//go:embed web
var webFiles embed.FS

// contentSecurityPolicy lets the page load only its own files and talk only
// to its own server: no network beyond loopback at run time. The card
// renderer sets element styles, hence 'unsafe-inline' for styles only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// server is the sandbox's HTTP side: the page and its API, and the
// connector emulator the bot posts to.
type server struct {
	world      *World
	tenant     *Tenant
	tenantFile string
	chat       *chat
	hub        *hub
	log        *slog.Logger
	client     *http.Client
	botURL     string // http://127.0.0.1:3978
	serviceURL string // http://127.0.0.1:<port>/connector/
	hosts      map[string]bool
	mention    *regexp.Regexp // "@<bot name>" as typed
}

// handler returns the routes, behind the host check and security headers.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	web, _ := fs.Sub(webFiles, "web")
	static := http.FileServerFS(web)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, web, "index.html")
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", static))
	mux.Handle("GET /vendor/adaptivecards/", http.StripPrefix("/vendor/adaptivecards/", http.FileServerFS(adaptivecards.FS())))
	mux.HandleFunc("GET /api/tenant", s.tenantInfo)
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.world.State(r.Context()))
	})
	mux.HandleFunc("GET /api/chat", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"messages": s.chat.All(s.channelIDs())})
	})
	mux.HandleFunc("GET /api/events", s.events)
	mux.HandleFunc("POST /api/send", s.send)
	mux.HandleFunc("POST /api/invoke", s.invoke)
	mux.HandleFunc("POST /connector/v3/conversations/{conversation}/activities", s.postActivity)
	mux.HandleFunc("POST /connector/v3/conversations/{conversation}/activities/{activity}", s.postActivity)
	mux.HandleFunc("PUT /connector/v3/conversations/{conversation}/activities/{activity}", s.putActivity)
	mux.HandleFunc("GET /connector/v3/conversations/{conversation}/members", s.members)
	return s.guard(mux)
}

// guard refuses requests for another host name (DNS rebinding) and
// cross-origin writes, and sets the security headers.
func (s *server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hosts[strings.ToLower(r.Host)] {
			http.Error(w, "unknown host", http.StatusMisdirectedRequest)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && r.Method != http.MethodGet && o != "http://"+r.Host {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// channelIDs lists the tenant's channels in file order.
func (s *server) channelIDs() []string {
	out := make([]string, len(s.tenant.Channels))
	for i, c := range s.tenant.Channels {
		out[i] = c.ID
	}
	return out
}

// loopbackHosts returns the Host header values that name addr.
func loopbackHosts(addr net.Addr) map[string]bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return map[string]bool{}
	}
	port := tcp.AddrPort().Port()
	hosts := map[string]bool{}
	for _, h := range []string{"localhost", tcp.IP.String()} {
		hosts[strings.ToLower(net.JoinHostPort(h, strconv.Itoa(int(port))))] = true
	}
	return hosts
}
