package bot

import (
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/keyturn/keyturn/bot/activity"
)

// emulatorRefusal says why, in emulator mode (no App ID, so no token
// proves who sent an activity), req must be refused, or "" to take it. It
// refuses every request to /api/messages that a web page could make or
// steer:
//   - a Content-Type other than application/json: text/plain, form and
//     multipart bodies are "simple" requests a page may send cross-site
//     without a CORS preflight;
//   - any Origin header: browsers add it to cross-site posts, and neither
//     the Bot Framework Emulator nor the sandbox's own server sends one;
//   - a Host that is not loopback: a page served from an attacker's name
//     that resolves to 127.0.0.1 (DNS rebinding) keeps its own name in
//     Host.
//
// It reads only the headers, so server.go answers before the body is read
// and a refused request acts on nothing.
func (s *Server) emulatorRefusal(req *http.Request) string {
	switch {
	case s.cfg.AppID != "":
		return ""
	case !loopbackHost(req.Host):
		return "host header is not loopback"
	case req.Header.Get("Origin") != "":
		return "request from a browser (Origin header)"
	case !jsonContentType(req.Header.Get("Content-Type")):
		return "content type is not application/json"
	}
	return ""
}

// jsonContentType reports whether v is application/json, with any
// parameters (charset).
func jsonContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && mt == "application/json"
}

// loopbackHost reports whether a Host header names a loopback address:
// localhost, 127.0.0.0/8 or ::1, with or without a port.
func loopbackHost(host string) bool {
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// EmulatorIdentity maps the sender of a Bot Framework Emulator activity
// (its from.id, and from.aadObjectId when the Emulator was told one) to
// a caller with an object ID and a tenant. ok false leaves the activity
// as it came.
type EmulatorIdentity func(fromID, aadObjectID string) (c Caller, ok bool)

// emulatorChannel is the channelId the Bot Framework Emulator sends.
const emulatorChannel = "emulator"

// emulatorCaller applies the configured EmulatorIdentity to a tenant-less
// activity from the Bot Framework Emulator in emulator mode; any other
// activity keeps c.
func (s *Server) emulatorCaller(act *activity.Activity, c Caller) Caller {
	if s.cfg.AppID != "" || s.cfg.Emulator == nil || act.ChannelID != emulatorChannel || c.TenantID != "" {
		return c
	}
	mapped, ok := s.cfg.Emulator(act.From.ID, c.ObjectID)
	if !ok {
		return c
	}
	s.log.Info("emulator sender mapped", "from_id", act.From.ID, "user_oid", mapped.ObjectID, "tenant_id", mapped.TenantID)
	return mapped
}
