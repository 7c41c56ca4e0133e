package bot

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyturn/keyturn/bot/activity"
	"github.com/keyturn/keyturn/bot/botauth"
	"github.com/keyturn/keyturn/rotation"
)

// answer is what the webhook replies to an activity: a status, and for an
// invoke the body. The handlers below the edge return one; only server.go
// writes it to HTTP.
type answer struct {
	status int
	body   any // JSON; nil means no body
}

// receive reads, decodes and authenticates the activity of req, and checks
// its tenant. It returns the activity on its way through the handlers, or
// the status that refuses it. rid is the request ID for the logs.
func (s *Server) receive(req *http.Request, rid string) (*incoming, int) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge
		}
		return nil, http.StatusBadRequest
	}
	act, err := activity.Decode(body)
	if err != nil {
		s.log.Debug("activity rejected", "request_id", rid, "reason", "malformed")
		// Authenticate first even for a malformed body? There is nothing
		// to authenticate against (no channel or service URL): refuse.
		return nil, http.StatusBadRequest
	}
	// Every audit record of this interaction carries its reference.
	ctx := rotation.WithRef(req.Context(), rid)
	if s.cfg.AppID != "" {
		if _, err := s.cfg.Auth.Validate(ctx, req.Header.Get("Authorization"), act.ChannelID, act.ServiceURL); err != nil {
			status := botauth.HTTPStatus(err)
			s.log.Warn("activity refused", "request_id", rid, "status", status, "reason", err)
			return nil, status
		}
	} else if !loopbackURL(act.ServiceURL) {
		s.log.Warn("activity refused", "request_id", rid, "status", http.StatusForbidden, "reason", "emulator mode serves loopback service URLs only")
		return nil, http.StatusForbidden
	}
	caller := s.emulatorCaller(act, Caller{ObjectID: act.CallerObjectID(), TenantID: act.TenantID(), Name: act.From.Name})
	if !s.tenantAllowed(caller.TenantID) {
		s.deny(ctx, caller, "", "activity from tenant "+caller.TenantID+", which is not allowed")
		s.log.Warn("activity refused", "request_id", rid, "status", http.StatusForbidden, "reason", "tenant not allowed", "tenant_id", caller.TenantID)
		return nil, http.StatusForbidden
	}
	if s.cfg.AppID != "" {
		// Only an authenticated activity vouches for a service URL; it is
		// shared with the other replicas and the next start.
		if err := s.cfg.ServiceURLs.Remember(ctx, act.ServiceURL); err != nil {
			s.log.Warn("storing the service URL failed", "request_id", rid, "error", err)
		}
	} else {
		// Emulator mode: loopback URLs, for this process only, never
		// stored where an authenticated start would send tokens to them.
		s.cfg.ServiceURLs.Allow(act.ServiceURL)
	}
	s.log.Debug("activity", "request_id", rid, "type", act.Type, "name", act.Name, "activity_id", act.ID, "user_oid", caller.ObjectID, "tenant_id", caller.TenantID)
	return &incoming{act: act, caller: caller, ref: activity.FromActivity(act), rid: rid}, 0
}

// handle dispatches an authenticated activity on its type and returns what
// to answer. Every path answers quickly; slow work goes to the pool.
func (s *Server) handle(ctx context.Context, in *incoming) answer {
	switch in.act.Type {
	case "message":
		return s.onMessage(ctx, in)
	case "invoke":
		return s.onInvoke(ctx, in)
	case "conversationUpdate":
		return s.onConversationUpdate(ctx, in)
	case "installationUpdate":
		return s.onInstallationUpdate(ctx, in)
	default:
		// messageReaction, typing, messageUpdate, event...: accepted and
		// deliberately ignored.
		return answer{status: http.StatusOK}
	}
}

// incoming is one authenticated activity on its way through the handlers.
type incoming struct {
	act    *activity.Activity
	caller Caller
	ref    activity.ConversationReference
	rid    string
}

// dedupKey identifies a delivery of an activity: Teams re-delivers with the
// same conversation and activity IDs.
func (in *incoming) dedupKey() string {
	return in.act.ChannelID + "|" + in.act.Conversation.ID + "|" + in.act.ID
}

func (s *Server) tenantAllowed(tenant string) bool {
	if len(s.tenants) == 0 {
		return s.cfg.AppID == ""
	}
	return s.tenants[strings.ToLower(tenant)]
}

// deny audits an activity refused before any action was asked for (a
// tenant not allowed), through the one path decisions take. An audit
// failure is logged: the refusal stands either way.
func (s *Server) deny(ctx context.Context, c Caller, clientID, why string) {
	e := rotation.Decision{Attempt: rotation.Attempt{Who: principal(c), ClientID: clientID}, Why: why}.Event()
	e.Time, e.Ref = s.now(), rotation.RefFrom(ctx)
	err := s.cfg.Audit.Record(ctx, e)
	if err != nil {
		s.log.Error("audit write failed for a denial", "user_oid", c.ObjectID, "error", err)
	}
}

// actor names a caller for audit records and vault tags: the object ID
// decides, the display name helps people read it.
func actor(c Caller) string {
	if c.Name == "" {
		return c.ObjectID
	}
	return c.Name + " (" + c.ObjectID + ")"
}

// loopbackURL reports whether raw is an http(s) URL on a loopback host.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
