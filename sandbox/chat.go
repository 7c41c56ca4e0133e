package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Account is who wrote a message: a person of the tenant file (User is
// their key) or the bot.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Bot  bool   `json:"bot,omitempty"`
	User string `json:"user,omitempty"`
}

// Attachment is an attachment of a message, as the bot sent it.
type Attachment struct {
	ContentType string          `json:"contentType"`
	Content     json.RawMessage `json:"content,omitempty"`
}

// Message is one post or reply in a channel, as the page shows it. Thread
// is the ID of the root post of its thread; a root post has none.
type Message struct {
	ID          string       `json:"id"`
	Channel     string       `json:"channel"`
	Thread      string       `json:"thread,omitempty"`
	Time        time.Time    `json:"time"`
	From        Account      `json:"from"`
	Text        string       `json:"text,omitempty"`
	TextFormat  string       `json:"textFormat,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Revision counts the bot's updates of the message (PUT).
	Revision int       `json:"revision"`
	Updated  time.Time `json:"updated,omitzero"`
}

// maxMessagesPerChannel bounds what a channel keeps; the oldest go first.
const maxMessagesPerChannel = 500

// errNoMessage means a channel has no message with the ID asked for.
var errNoMessage = errors.New("no such message")

// chat keeps the channels' messages, saved to a file after each change so a
// restart shows the same conversation. It also hands out activity IDs
// (Teams uses milliseconds since the epoch) and remembers in which channels
// the bot was installed. It is safe for concurrent use.
type chat struct {
	path string
	now  func() time.Time

	mu        sync.Mutex
	messages  map[string][]Message // by channel ID, oldest first
	lastID    int64
	installed map[string]bool
}

type chatFile struct {
	LastID    int64     `json:"lastId"`
	Installed []string  `json:"installed"`
	Messages  []Message `json:"messages"`
}

// openChat loads path (a missing file is an empty chat).
func openChat(path string, now func() time.Time) (*chat, error) {
	c := &chat{path: path, now: now, messages: map[string][]Message{}, installed: map[string]bool{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read chat: %w", err)
	}
	var f chatFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode chat: %w", err)
	}
	c.lastID = f.LastID
	for _, ch := range f.Installed {
		c.installed[ch] = true
	}
	for _, m := range f.Messages {
		c.messages[m.Channel] = append(c.messages[m.Channel], m)
	}
	return c, nil
}

// NextID returns a new activity ID.
func (c *chat) NextID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nextID()
}

func (c *chat) nextID() string {
	ms := c.now().UnixMilli()
	if ms <= c.lastID {
		ms = c.lastID + 1
	}
	c.lastID = ms
	return strconv.FormatInt(ms, 10)
}

// Post stores m in its channel with a new ID and time, and saves.
func (c *chat) Post(m Message) (Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m.ID, m.Time, m.Revision = c.nextID(), c.now().UTC(), 0
	list := append(c.messages[m.Channel], m)
	if len(list) > maxMessagesPerChannel {
		list = slices.Clone(list[len(list)-maxMessagesPerChannel:])
	}
	c.messages[m.Channel] = list
	return m, c.save()
}

// Update applies fn to message id of channel, counts a revision, and saves.
// Errors: errNoMessage, or fn's error (nothing changes then).
func (c *chat) Update(channel, id string, fn func(*Message) error) (Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.messages[channel]
	i := slices.IndexFunc(list, func(m Message) bool { return m.ID == id })
	if i < 0 {
		return Message{}, errNoMessage
	}
	m := list[i]
	if err := fn(&m); err != nil {
		return Message{}, err
	}
	m.ID, m.Channel, m.Revision, m.Updated = id, channel, list[i].Revision+1, c.now().UTC()
	list[i] = m
	return m, c.save()
}

// Get returns message id of channel.
func (c *chat) Get(channel, id string) (Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.messages[channel] {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}

// ThreadOf returns the root post of the thread message id is in ("" when
// there is no such message).
func (c *chat) ThreadOf(channel, id string) string {
	m, ok := c.Get(channel, id)
	switch {
	case !ok:
		return ""
	case m.Thread != "":
		return m.Thread
	}
	return m.ID
}

// All returns every message of channels, channel by channel, oldest first.
func (c *chat) All(channels []string) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Message
	for _, ch := range channels {
		out = append(out, c.messages[ch]...)
	}
	return out
}

// Installed reports whether the bot was installed in channel.
func (c *chat) Installed(channel string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.installed[channel]
}

// MarkInstalled records that the bot was installed in channel.
func (c *chat) MarkInstalled(channel string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.installed[channel] = true
	return c.save()
}

// save writes the file; the caller holds c.mu.
func (c *chat) save() error {
	f := chatFile{LastID: c.lastID, Installed: []string{}, Messages: []Message{}}
	for ch := range c.installed {
		f.Installed = append(f.Installed, ch)
	}
	slices.Sort(f.Installed)
	channels := make([]string, 0, len(c.messages))
	for ch := range c.messages {
		channels = append(channels, ch)
	}
	slices.Sort(channels)
	for _, ch := range channels {
		f.Messages = append(f.Messages, c.messages[ch]...)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode chat: %w", err)
	}
	return writeFileAtomic(c.path, b)
}
