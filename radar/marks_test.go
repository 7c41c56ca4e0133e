package radar

import (
	"testing"
	"time"
)

func TestLevel(t *testing.T) {
	for _, c := range []struct {
		left time.Duration
		want int
	}{
		{40 * day, 0}, {30 * day, 1}, {20 * day, 1}, {7 * day, 2}, {5 * day, 2}, {day, 3}, {12 * time.Hour, 3}, {0, 4}, {-3 * day, 4},
	} {
		if got := Level(DefaultThresholds, c.left); got != c.want {
			t.Errorf("Level(%v) = %d, want %d", c.left, got, c.want)
		}
	}
}

func inside(id, key string, left time.Duration) App {
	return App{ClientID: id, Inside: true, Credentials: []Credential{{KeyID: key, Left: left, End: t0.Add(left)}}}
}

func TestDecide(t *testing.T) {
	posted := func(key string, level int) Mark {
		return Mark{ClientID: "a", KeyID: key, Level: level, ActivityID: "act-1", ConversationID: "conv"}
	}
	for _, c := range []struct {
		name  string
		prev  Mark
		app   App
		auto  time.Duration
		step  Step
		level int
		res   bool
		autoR bool
	}{
		{"first time inside: post", Mark{}, inside("a", "k1", 20*day), 0, Post, 1, false, false},
		{"same threshold next day: update in place", posted("k1", 1), inside("a", "k1", 19*day), 0, Update, 1, false, false},
		{"crossed 7 days: post again", posted("k1", 1), inside("a", "k1", 6*day), 0, Post, 2, false, false},
		{"crossed 1 day: post again", posted("k1", 2), inside("a", "k1", 20*time.Hour), 0, Post, 3, false, false},
		{"expired: post again", posted("k1", 3), inside("a", "k1", -time.Hour), 0, Post, 4, false, false},
		{"still expired: update", posted("k1", 4), inside("a", "k1", -2*day), 0, Update, 4, false, false},
		{"rotated, nothing inside: update once, resolved", posted("k1", 2), App{ClientID: "a"}, 0, Update, 0, true, false},
		{"rotated before its card was posted: remember only", Mark{ClientID: "a", KeyID: "k1", Level: 1}, App{ClientID: "a"}, 0, Nothing, 0, true, false},
		{"resolved stays quiet", Mark{ClientID: "a", Resolved: true, ActivityID: "act-1"}, App{ClientID: "a"}, 0, Nothing, 0, true, false},
		{"never posted, not inside: nothing", Mark{}, App{ClientID: "a"}, 0, Nothing, 0, false, false},
		{"resolved then inside again: post", Mark{ClientID: "a", Resolved: true, ActivityID: "act-1"}, inside("a", "k2", 25*day), 0, Post, 1, false, false},
		{"another credential now soonest: post", posted("k1", 1), inside("a", "k2", 20*day), 0, Post, 1, false, false},
		{"post failed last time (no activity): post", Mark{ClientID: "a", KeyID: "k1", Level: 1}, inside("a", "k1", 20*day), 0, Post, 1, false, false},
		{"auto request when its threshold is crossed", posted("k1", 1), inside("a", "k1", 13*day), 14 * day, Update, 1, false, true},
		{"auto request only once per credential", Mark{ClientID: "a", KeyID: "k1", Level: 1, ActivityID: "x", AutoRequested: "k1"}, inside("a", "k1", 12*day), 14 * day, Update, 1, false, false},
		{"no auto request before its threshold", posted("k1", 1), inside("a", "k1", 20*day), 14 * day, Update, 1, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(c.prev, c.app, DefaultThresholds, c.auto)
			if d.Step != c.step || d.Next.Level != c.level || d.Next.Resolved != c.res || d.AutoRequest != c.autoR {
				t.Fatalf("got %v level %d resolved %v auto %v; want %v %d %v %v", d.Step, d.Next.Level, d.Next.Resolved, d.AutoRequest, c.step, c.level, c.res, c.autoR)
			}
			if c.prev.ActivityID != "" && d.Next.ActivityID != c.prev.ActivityID {
				t.Errorf("the card's place is kept: %+v", d.Next)
			}
			if d.AutoRequest && d.Next.AutoRequested == "" {
				t.Errorf("an automatic request is remembered: %+v", d.Next)
			}
		})
	}
}

func TestSortThresholds(t *testing.T) {
	got := SortThresholds([]time.Duration{day, 30 * day, 0, 7 * day, day, -day})
	want := []time.Duration{30 * day, 7 * day, day}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
}
