package bot

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
	"github.com/keyturn/keyturn/bot/cards"
	"github.com/keyturn/keyturn/bot/command"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/rotation"
)

// Settings the radar keeps in the shared state.
const (
	radarChannelSetting = "radar-channel"  // where radar cards go
	radarScanSetting    = "radar-last-run" // when the last scan ran, and whether one was asked for
)

// DefaultRadarEvery is how often the radar scans when Radar.Every is zero.
const DefaultRadarEvery = 24 * time.Hour

// RadarMarks keeps what the radar posted per app (*kvstore.Store). Of two
// replicas writing on the same ETag, one gets rotation.ErrConflict.
type RadarMarks interface {
	RadarMark(ctx context.Context, clientID string) (radar.Mark, string, error)
	PutRadarMark(ctx context.Context, m radar.Mark, etag string) (string, error)
	RadarMarks(ctx context.Context) ([]radar.Mark, error)
}

// Radar configures the expiry radar; a nil *Radar in Config switches it off.
type Radar struct {
	Scanner *radar.Scanner
	Marks   RadarMarks
	// Thresholds are the points before expiry at which a card is posted
	// again; nil means radar.DefaultThresholds.
	Thresholds []time.Duration
	// AutoRequestBefore returns an app's auto_request_before (0: none).
	// Nil: no automatic requests.
	AutoRequestBefore func(clientID string) time.Duration
	// Every is how often a scan runs; zero means DefaultRadarEvery.
	Every time.Duration
}

// radarChannel is where radar cards are posted.
type radarChannel struct {
	Ref activity.ConversationReference `json:"ref"`
}

// radarRun is when the radar last scanned, and whether `keyturn radar
// --scan` asked for one before the next is due.
type radarRun struct {
	At    time.Time `json:"at"`
	Asked bool      `json:"asked,omitempty"`
}

// RadarOutcome counts what one radar pass did, for logs and tests.
type RadarOutcome struct {
	Apps, Posted, Updated, Skipped, Failed, AutoRequests int
}

// ScanAsker is the part of the shared state `keyturn radar --scan` writes
// (*kvstore.Store).
type ScanAsker interface {
	Setting(ctx context.Context, name string, v any) error
	SetSetting(ctx context.Context, name string, v any) error
}

// AskRadarScan asks the running bot to scan at its next scheduler tick,
// whichever replica holds the lease.
func AskRadarScan(ctx context.Context, st ScanAsker) error {
	var last radarRun
	if err := st.Setting(ctx, radarScanSetting, &last); err != nil {
		last = radarRun{}
	}
	last.Asked = true
	return st.SetSetting(ctx, radarScanSetting, last)
}

// radarDue reports whether a scan is due at now: none ran yet, the interval
// has passed, or one was asked for.
func (s *Server) radarDue(ctx context.Context, now time.Time) bool {
	every := s.cfg.Radar.Every
	if every <= 0 {
		every = DefaultRadarEvery
	}
	var last radarRun
	if err := s.cfg.State.Setting(ctx, radarScanSetting, &last); err != nil {
		return true
	}
	return last.Asked || !now.Before(last.At.Add(every))
}

// radarTick runs a scan when one is due; the scheduler calls it under its
// lease, so one replica scans at a time.
func (s *Server) radarTick(ctx context.Context) {
	if s.cfg.Radar == nil {
		return
	}
	now := s.now()
	if !s.radarDue(ctx, now) {
		return
	}
	if err := s.cfg.State.SetSetting(ctx, radarScanSetting, radarRun{At: now}); err != nil {
		s.log.Warn("radar: recording the scan", "error", err)
		return
	}
	out, err := s.radarPass(ctx, now)
	if err != nil {
		s.log.Warn("radar scan failed", "error", err)
		return
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "radar scan", slog.Int("apps_inside", out.Apps), slog.Int("posted", out.Posted),
		slog.Int("updated", out.Updated), slog.Int("skipped", out.Skipped), slog.Int("failed", out.Failed),
		slog.Int("auto_requests", out.AutoRequests))
}

// radarPass scans once and posts, updates or leaves each app's card as
// radar.Decide says. A mark is claimed (ETag-conditional) before a card is
// posted, so of two replicas only one posts; a post that fails leaves a
// mark without an activity ID, and the next pass posts again. Without a
// radar channel the scan still runs (for the log and automatic requests)
// but nothing is posted.
func (s *Server) radarPass(ctx context.Context, now time.Time) (RadarOutcome, error) {
	rc := s.cfg.Radar
	var out RadarOutcome
	var ch radarChannel
	hasChannel := s.cfg.State.Setting(ctx, radarChannelSetting, &ch) == nil && ch.Ref.ConversationID != ""

	marks, err := rc.Marks.RadarMarks(ctx)
	if err != nil {
		return out, err
	}
	watched := make(map[string]bool, len(marks))
	for _, m := range marks {
		if !m.Resolved {
			watched[m.ClientID] = true
		}
	}
	scanner := *rc.Scanner
	scanner.Watch = func(id string) bool { return watched[id] }
	rep, err := scanner.Scan(ctx, now)
	if err != nil {
		return out, err
	}
	thresholds := rc.Thresholds
	if len(thresholds) == 0 {
		thresholds = radar.DefaultThresholds
	}
	for _, app := range rep.Apps {
		if app.Inside {
			out.Apps++
		}
		prev, etag, err := rc.Marks.RadarMark(ctx, app.ClientID)
		if err != nil {
			out.Failed++
			s.log.Warn("radar: reading a mark", "client_id", app.ClientID, "error", err)
			continue
		}
		if hasChannel && prev.ConversationID != "" && prev.ConversationID != ch.Ref.ConversationID {
			prev.ActivityID = "" // the radar moved: post afresh in the new channel
		}
		var auto time.Duration
		if rc.AutoRequestBefore != nil {
			auto = rc.AutoRequestBefore(app.ClientID)
		}
		d := radar.Decide(prev, app, thresholds, auto)
		if d.Step == radar.Nothing && !d.AutoRequest && d.Next == prev {
			continue
		}
		if !hasChannel {
			d.Step = radar.Nothing
		}
		next := d.Next
		if d.Step == radar.Post {
			next.ActivityID, next.ConversationID = "", ""
		}
		// The automatic request is remembered only once it is open.
		next.AutoRequested = prev.AutoRequested
		tag, err := rc.Marks.PutRadarMark(ctx, next, etag)
		if errors.Is(err, rotation.ErrConflict) {
			out.Skipped++ // another replica took this app in the same pass
			continue
		}
		if err != nil {
			out.Failed++
			s.log.Warn("radar: claiming a mark", "client_id", app.ClientID, "error", err)
			continue
		}
		switch d.Step {
		case radar.Post:
			id, err := s.cfg.Sender.SendToConversation(ctx, ch.Ref, cardActivity(cards.RadarWarning(app)))
			if err != nil {
				out.Failed++
				s.log.Warn("radar: posting a card", "client_id", app.ClientID, "error", err)
				continue
			}
			next.ActivityID, next.ConversationID, next.PostedAt = id, ch.Ref.ConversationID, now
			if tag, err = rc.Marks.PutRadarMark(ctx, next, tag); err != nil {
				s.log.Warn("radar: recording a posted card", "client_id", app.ClientID, "error", err)
				continue
			}
			out.Posted++
		case radar.Update:
			card := cards.RadarWarning(app)
			if !app.Inside {
				card = cards.RadarResolved(app)
			}
			ref := ch.Ref
			ref.ConversationID = prev.ConversationID
			if err := s.cfg.Sender.UpdateActivity(ctx, ref, prev.ActivityID, cardActivity(card)); err != nil {
				out.Failed++
				s.log.Warn("radar: updating a card", "client_id", app.ClientID, "error", err)
				continue
			}
			out.Updated++
		}
		if d.AutoRequest && hasChannel {
			// A request someone opened for the app is already on its way:
			// asking again would only be refused (and audited as such) at
			// every scan. The radar asks once that request has ended, if
			// the secret still needs it.
			if open, ok, err := s.cfg.Approvals.OpenFor(ctx, ch.Ref.TenantID, app.ClientID); err == nil && ok {
				s.log.Debug("radar: the automatic request waits for an open one", "client_id", app.ClientID, "open_request_id", open.ID)
				continue
			}
			if err := s.autoRequest(ctx, ch.Ref, app.ClientID); err != nil {
				out.Failed++
				s.log.Warn("radar: automatic rotation request", "client_id", app.ClientID, "error", err)
				continue
			}
			out.AutoRequests++
			next.AutoRequested = d.Next.AutoRequested
			if _, err := rc.Marks.PutRadarMark(ctx, next, tag); err != nil {
				s.log.Warn("radar: recording the automatic request", "client_id", app.ClientID, "error", err)
			}
		}
	}
	return out, nil
}

// autoRequest opens the rotation request the policy asks for
// (auto_request_before) for the app clientID, as the radar, with its
// approval card in the radar channel.
func (s *Server) autoRequest(ctx context.Context, ref activity.ConversationReference, clientID string) error {
	t, err := s.cfg.Catalog.Resolve(clientID, "")
	if err != nil {
		return err
	}
	if t.VaultURI == "" {
		return errors.New("no vault for the app: give it one in the policy file")
	}
	return s.openPolicyRequest(ctx, ref, t)
}

// onRadarHere makes this conversation the radar channel: approvers only, a
// team channel or group chat only (as for the audit channel), audited
// before it is made. Cards already posted elsewhere stay where they are;
// the next scan posts each app's card afresh here.
func (s *Server) onRadarHere(ctx context.Context, in *incoming) answer {
	if refused := s.hereRefused(ctx, in, policy.ActionRadarHere, "The radar channel must be a team channel or a group chat, where the app's owners read it: not a 1:1 chat. Nothing was changed."); refused != nil {
		return refused()
	}
	return s.later(ctx, in, "radar-here", func(ctx context.Context) {
		ref, _, ok := s.claimHere(ctx, in, "radar channel", radarChannelSetting)
		if !ok {
			return
		}
		if err := s.cfg.State.SetSetting(ctx, radarChannelSetting, radarChannel{Ref: ref}); err != nil {
			s.log.Error("setting the radar channel failed", "request_id", in.rid, "error", err)
			s.replyText(ctx, in, userMessage(err, in.rid))
			return
		}
		msg := "This channel is now Keyturn's radar channel: a card here warns before a client secret of an app Keyturn owns expires, with a button to request its rotation."
		if s.cfg.Radar != nil {
			// Scan at the next tick rather than tomorrow.
			if err := AskRadarScan(ctx, s.cfg.State); err != nil {
				s.log.Warn("radar: asking for a scan", "request_id", in.rid, "error", err)
			}
		} else {
			msg += " The radar is switched off in this deployment, so no card will come until it is on."
		}
		s.replyText(ctx, in, msg)
	})
}

// onExpiring answers "expiring [within N]": a compact card of the apps
// whose client secrets end within the window. Anyone who may request or
// approve may ask; the scan is read-only.
func (s *Server) onExpiring(ctx context.Context, in *incoming, cmd command.Command) answer {
	if why := s.authorize(ctx, in, policy.ActionExpiring, ""); why != "" {
		return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, why) })
	}
	if s.cfg.Radar == nil {
		return s.later(ctx, in, "reply", func(ctx context.Context) {
			s.replyText(ctx, in, "The expiry radar is switched off in this deployment, so I cannot list expiring secrets. (keyturn radar does it from the command line.)")
		})
	}
	return s.later(ctx, in, "expiring", func(ctx context.Context) {
		s.typing(ctx, in)
		sc := *s.cfg.Radar.Scanner
		if cmd.WithinDays > 0 {
			sc.Window = time.Duration(cmd.WithinDays) * 24 * time.Hour
		}
		rep, err := sc.Scan(ctx, s.now())
		if err != nil {
			s.log.Warn("expiring: scan failed", "request_id", in.rid, "error", err)
			s.replyCard(ctx, in, cards.Error("I could not list the apps Keyturn owns just now ("+radar.Reason(err)+"). Nothing was changed.", in.rid))
			return
		}
		s.replyCard(ctx, in, cards.Expiring(rep))
	})
}

// radarRequest answers a radar card's Request rotation button: it opens the
// normal request for the app as the clicker, who must be allowed to
// request, and posts the approval card in the radar card's thread.
func (s *Server) radarRequest(ctx context.Context, in *incoming, data cards.ActionData) InvokeResponse {
	if !command.IsClientID(strings.ToLower(data.ClientID)) {
		return invokeError(http.StatusBadRequest, "BadRequest", "This card names no application.")
	}
	t, err := s.cfg.Catalog.Resolve(strings.ToLower(data.ClientID), "")
	if err != nil {
		return invokeError(http.StatusBadRequest, "BadRequest", userMessage(err, in.rid))
	}
	if t.VaultURI == "" {
		return InvokeResponse{StatusCode: http.StatusOK, Type: InvokeTypeMessage,
			Value: "No default vault is configured: say @" + s.cfg.BotName + " rotate " + t.ClientID + " into <vault>"}
	}
	// Answer the click honestly at once; opening the request checks again.
	if _, err := s.cfg.Authz.Authorize(ctx, rotation.Attempt{Who: principal(in.caller), Action: rotation.ActionRequest, ClientID: t.ClientID}); err != nil {
		return invokeError(http.StatusForbidden, "Forbidden", userMessage(err, in.rid))
	}
	first, err := s.cfg.Dedup.FirstSeen(ctx, in.dedupKey())
	if err != nil {
		return invokeError(http.StatusInternalServerError, "Unavailable", "Try again in a moment. (reference "+in.rid+")")
	}
	if !first {
		return InvokeResponse{StatusCode: http.StatusOK, Type: InvokeTypeMessage, Value: "Asked already: the request card is in this thread."}
	}
	open := func(ctx context.Context) { s.openRequest(rotation.WithRef(ctx, in.rid), in, t) }
	if err := s.pool.submit(job{name: "request", id: in.act.ID, timeout: s.cfg.JobTimeout, run: open}); err != nil {
		_ = s.cfg.Dedup.Forget(ctx, in.dedupKey())
		return invokeError(http.StatusServiceUnavailable, "Busy", "Keyturn is busy; try again in a minute. (reference "+in.rid+")")
	}
	return InvokeResponse{StatusCode: http.StatusOK, Type: InvokeTypeMessage, Value: "Asking for approval: the request card follows in this thread."}
}
