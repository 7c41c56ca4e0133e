package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keyturn/keyturn/bot/botauthtest"
)

// The bot identity every target is configured with.
const (
	appID    = botauthtest.DefaultAppID
	tenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47" // the personal message sample's tenant
	idMarker = "loadgen-activity-id-marker"
)

// channel is the Bot Framework side of the run: the token issuer, the
// connector stand-in (also the managed-identity token endpoint) and the
// payloads.
type channel struct {
	iss       *botauthtest.Issuer
	connector *http.Server
	connURL   string
	auth      string
	forged    string   // signed by a key the metadata does not publish
	bodies    [][]byte // templates, each with idMarker where the activity ID goes

	replies  atomic.Int64 // posts to /v3/conversations/.../activities
	tokens   atomic.Int64 // managed-identity token requests
	other    atomic.Int64 // anything else the bot sent the connector
	sequence atomic.Uint64
}

func newChannel(testdata string) (*channel, error) {
	iss, err := botauthtest.NewIssuer()
	if err != nil {
		return nil, err
	}
	iss.Start()
	ch := &channel{iss: iss}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		iss.Close()
		return nil, err
	}
	ch.connURL = "http://" + ln.Addr().String() + "/"
	ch.connector = &http.Server{Handler: http.HandlerFunc(ch.serveConnector), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ch.connector.Serve(ln) }()
	// One token for the whole run, as Teams reuses its token for an hour:
	// every target still verifies its RS256 signature on every request.
	ch.auth = iss.Authorization(botauthtest.TokenOptions{AppID: appID, ServiceURL: ch.connURL, Expires: time.Now().Add(2 * time.Hour)})
	ch.forged = iss.Authorization(botauthtest.TokenOptions{AppID: appID, ServiceURL: ch.connURL, UnknownKey: true})
	if ch.bodies, err = payloads(testdata, ch.connURL); err != nil {
		ch.close()
		return nil, err
	}
	return ch, nil
}

func (ch *channel) close() {
	_ = ch.connector.Close()
	ch.iss.Close()
}

// body returns the next payload with a new, unique activity ID.
func (ch *channel) body() []byte {
	n := ch.sequence.Add(1)
	tmpl := ch.bodies[n%uint64(len(ch.bodies))]
	return bytes.Replace(tmpl, []byte(idMarker), []byte("lg-"+strconv.FormatUint(n, 36)+"-"+strconv.FormatInt(startNanos, 36)), 1)
}

// startNanos makes activity IDs unique across runs sharing a state file.
var startNanos = time.Now().UnixNano()

// serveConnector answers the bot's connector calls and, on /msi/token, its
// managed-identity token requests.
func (ch *channel) serveConnector(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/msi/token":
		ch.tokens.Add(1)
		exp := time.Now().Add(time.Hour).Unix()
		fmt.Fprintf(w, `{"access_token":"loadgen-connector-token","expires_on":"%d","resource":"https://api.botframework.com","token_type":"Bearer","client_id":"%s"}`, exp, appID)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v3/conversations/") && strings.Contains(r.URL.Path, "/activities"):
		n := ch.replies.Add(1)
		fmt.Fprintf(w, `{"id":"reply-%d"}`, n)
	default:
		ch.other.Add(1)
		_, _ = w.Write([]byte("{}"))
	}
}

// payloads reads the message activities of dir, turns each into a "help"
// command addressed to this run's bot, tenant and connector, and marks
// where the activity ID goes.
func payloads(dir, serviceURL string) ([][]byte, error) {
	var out [][]byte
	for _, name := range []string{"b_personal_message.msdocs.json", "channel_mention.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read payload (run from the repository root or set -testdata): %w", err)
		}
		// The recorded shapes carry placeholders; fill them in.
		raw = bytes.ReplaceAll(raw, []byte("<tenant-id>"), []byte(tenantID))
		raw = bytes.ReplaceAll(raw, []byte("<bot-app-id>"), []byte(appID))
		raw = bytes.ReplaceAll(raw, []byte("<user-object-id>"), []byte("7faf8ab2-3d56-4244-b585-20c8a42ed2b8"))
		var a map[string]any
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if a["type"] != "message" {
			return nil, fmt.Errorf("%s is not a message", name)
		}
		a["id"] = idMarker
		a["serviceUrl"] = serviceURL
		if _, mention := a["entities"].([]any); mention && strings.Contains(fmt.Sprint(a["text"]), "<at>") {
			a["text"] = "<at>Keyturn</at> help"
		} else {
			a["text"] = "help"
		}
		delete(a, "attachments") // the HTML copy of the old text
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("no payloads")
	}
	return out, nil
}
