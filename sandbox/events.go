package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// event is what the page is told over Server-Sent Events.
type event struct {
	// Type is "hello" (the whole chat, first on every connection),
	// "message" (a new message), "update" (a message the bot changed),
	// "typing" (the bot is typing in Channel) or "state" (the directory or
	// a vault changed: fetch /api/state again).
	Type     string    `json:"type"`
	Message  *Message  `json:"message,omitempty"`
	Messages []Message `json:"messages,omitempty"`
	Channel  string    `json:"channel,omitempty"`
}

// subscriberBuffer is how many events a slow page may fall behind before
// it is disconnected (its EventSource reconnects and gets a fresh hello).
const subscriberBuffer = 64

// hub fans events out to the connected pages. Closing it ends every
// stream, so the HTTP server can shut down.
type hub struct {
	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	closed bool
}

func newHub() *hub { return &hub{subs: map[chan []byte]struct{}{}} }

// subscribe returns a channel of encoded events; false once the hub is
// closed.
func (h *hub) subscribe() (chan []byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	ch := make(chan []byte, subscriberBuffer)
	h.subs[ch] = struct{}{}
	return ch, true
}

func (h *hub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

// publish sends ev to every subscriber without blocking; one that is full
// is dropped.
func (h *hub) publish(ev event) {
	b, err := json.Marshal(ev)
	if err != nil {
		return // only plain data and raw JSON the chat accepted: cannot fail
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- b:
		default:
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// close ends every stream and refuses new ones.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		delete(h.subs, ch)
		close(ch)
	}
}

// heartbeat keeps idle streams open through proxies and lets a page notice
// a dead server.
const heartbeat = 20 * time.Second

// events is GET /api/events: a hello with every message, then each event.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, ok := s.hub.subscribe()
	if !ok {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.hub.unsubscribe(ch)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	hello, err := json.Marshal(event{Type: "hello", Messages: s.chat.All(s.channelIDs())})
	if err != nil {
		return
	}
	fmt.Fprintf(w, "retry: 1000\ndata: %s\n\n", hello)
	fl.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case b, ok := <-ch:
			if !ok {
				return
			}
			fmt.Fprintf(w, "data: %s\n\n", b)
			fl.Flush()
		case <-tick.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		}
	}
}
