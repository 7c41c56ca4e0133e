package radar

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// DefaultThresholds are the points before expiry at which the radar posts
// a card again (the first one is also the default window).
var DefaultThresholds = []time.Duration{30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour}

// Mark is what the radar remembers of one app between scans, kept in the
// state store so that restarts and replicas agree on what was posted.
type Mark struct {
	ClientID string
	// KeyID is the credential the card is about (the soonest to end).
	KeyID string
	// Level is how many thresholds that credential had crossed when the
	// card was last posted (see Level); a card is posted again only when
	// the level rises.
	Level int
	// Resolved means the card says the app was rotated: nothing of it is
	// inside the window any more.
	Resolved bool
	// AutoRequested is the key ID an automatic rotation request was
	// opened for, so the radar opens at most one per credential.
	AutoRequested string
	// Where the card is: set by the poster, kept as they are here.
	ConversationID string
	ActivityID     string
	PostedAt       time.Time
}

// Step is what to do with an app's card.
type Step int

// The steps Decide chooses between.
const (
	Nothing Step = iota // nothing to post or change
	Post                // post a new card: first warning, or a new threshold crossed
	Update              // change the posted card in place
)

func (s Step) String() string {
	switch s {
	case Post:
		return "post"
	case Update:
		return "update"
	}
	return "nothing"
}

// Decision is Decide's answer: the step, the mark to store once the step
// is done (store it whenever it differs from the previous one, even when
// the step is Nothing), and whether to open an automatic rotation request.
type Decision struct {
	Step        Step
	Next        Mark
	AutoRequest bool
}

// Level counts the thresholds that left has crossed (thresholds in any
// order), plus one when the credential has expired: with 30, 7 and 1 days,
// 20 days left is 1, 5 days 2, 12 hours 3, and expired 4.
func Level(thresholds []time.Duration, left time.Duration) int {
	n := 0
	for _, t := range thresholds {
		if left <= t {
			n++
		}
	}
	if left <= 0 {
		n++
	}
	return n
}

// Decide says what to do with app's card, given what was remembered of it
// (the zero Mark when nothing) and the thresholds. autoBefore, when
// positive, is the policy's auto_request_before for the app.
//
// A card is posted the first time an app comes inside the window, and
// again only when its soonest credential crosses another threshold (or a
// new credential comes inside after the app was resolved); otherwise the
// posted card is updated in place. An app with a card but nothing inside
// the window any more (it was rotated) gets its card updated once, to say
// so, and is then marked resolved.
func Decide(prev Mark, app App, thresholds []time.Duration, autoBefore time.Duration) Decision {
	known := prev.ClientID != ""
	if !app.Inside {
		if known && !prev.Resolved {
			next := prev
			next.Resolved, next.Level, next.KeyID = true, 0, ""
			if prev.ActivityID == "" {
				return Decision{Step: Nothing, Next: next} // no card to change; remember only
			}
			return Decision{Step: Update, Next: next}
		}
		return Decision{Step: Nothing, Next: prev}
	}
	soon := app.Soonest()
	next := prev
	next.ClientID = app.ClientID
	next.KeyID = strings.ToLower(soon.KeyID)
	next.Level = Level(thresholds, soon.Left)
	next.Resolved = false

	d := Decision{Next: next, Step: Update}
	switch {
	case !known || prev.Resolved || prev.ActivityID == "":
		d.Step = Post
	case next.KeyID != prev.KeyID && next.Level > 0:
		d.Step = Post // another credential is now the one about to expire
	case next.Level > prev.Level:
		d.Step = Post
	}
	if autoBefore > 0 && soon.Left <= autoBefore && prev.AutoRequested != next.KeyID {
		d.AutoRequest = true
		d.Next.AutoRequested = next.KeyID
	}
	return d
}

// SortThresholds returns the thresholds longest first, without duplicates
// or non-positive values.
func SortThresholds(ts []time.Duration) []time.Duration {
	out := slices.DeleteFunc(slices.Clone(ts), func(t time.Duration) bool { return t <= 0 })
	slices.SortFunc(out, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	return slices.Compact(out)
}
