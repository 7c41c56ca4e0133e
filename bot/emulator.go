package bot

import (
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// emulatorGuard refuses, in emulator mode (no App ID, so no token proves
// who sent an activity), every request to /api/messages that a web page
// could make or steer:
//   - a Content-Type other than application/json: text/plain, form and
//     multipart bodies are "simple" requests a page may send cross-site
//     without a CORS preflight;
//   - any Origin header: browsers add it to cross-site posts, and neither
//     the Bot Framework Emulator nor the sandbox's own server sends one;
//   - a Host that is not loopback: a page served from an attacker's name
//     that resolves to 127.0.0.1 (DNS rebinding) keeps its own name in
//     Host.
//
// It answers before the body is read, so a refused request acts on nothing.
func (s *Server) emulatorGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.AppID != "" {
			return next(c)
		}
		req := c.Request()
		why := ""
		switch {
		case !loopbackHost(req.Host):
			why = "host header is not loopback"
		case req.Header.Get("Origin") != "":
			why = "request from a browser (Origin header)"
		case !jsonContentType(req.Header.Get(echo.HeaderContentType)):
			why = "content type is not application/json"
		}
		if why == "" {
			return next(c)
		}
		s.log.Warn("activity refused", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"status", http.StatusForbidden, "reason", "emulator mode: "+why)
		return c.NoContent(http.StatusForbidden)
	}
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
