package cards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// TestInputsCannotCarrySecrets walks the types the builders accept: none
// can hold a secret value, so no card can show one. A field of one of these
// types added to Result, Status, Retirement, ApprovalRequest or Viewer
// fails this test.
func TestInputsCannotCarrySecrets(t *testing.T) {
	forbidden := []reflect.Type{
		reflect.TypeFor[rotation.Secret](),
		reflect.TypeFor[rotation.NewPassword](),
		reflect.TypeFor[rotation.StoredSecret](),
	}
	for _, root := range []reflect.Type{
		reflect.TypeFor[rotation.Result](),
		reflect.TypeFor[rotation.Status](),
		reflect.TypeFor[rotation.Retirement](),
		reflect.TypeFor[rotation.ApprovalRequest](),
		reflect.TypeFor[Viewer](),
	} {
		seen := map[reflect.Type]bool{}
		var visit func(t reflect.Type, path string)
		visit = func(typ reflect.Type, path string) {
			if slices.Contains(forbidden, typ) {
				t.Errorf("%s is a %s: a card input must not hold a secret", path, typ)
				return
			}
			if seen[typ] {
				return
			}
			seen[typ] = true
			switch typ.Kind() {
			case reflect.Struct:
				for i := range typ.NumField() {
					f := typ.Field(i)
					visit(f.Type, path+"."+f.Name)
				}
			case reflect.Slice, reflect.Array, reflect.Pointer, reflect.Map:
				if typ.Kind() == reflect.Map {
					visit(typ.Key(), path+"[key]")
				}
				visit(typ.Elem(), path+"[]")
			case reflect.Interface, reflect.Func, reflect.Chan:
				t.Errorf("%s is a %s: cannot prove it holds no secret", path, typ.Kind())
			}
		}
		visit(root, root.Name())
	}
}

// secretShaped matches an Entra ID client secret (40 characters, a digit
// and "Q~" after the first three) and the canary value tests use.
var secretShaped = regexp.MustCompile(`[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}|CANARY-s3cr3t`)

// TestNoSecretInCards renders every card from a Result derived, as the saga
// does, from a new password whose secret is the canary, and checks no card
// and no golden file holds anything secret-shaped.
func TestNoSecretInCards(t *testing.T) {
	const canary = "CANARY-s3cr3t-~value"
	const entraShaped = "abc8Q~Zq1.Xy2-Wv3_Ut4~Sr5.Qp6-On7_Ml8~Kj"
	for _, secret := range []string{canary, entraShaped} {
		if !secretShaped.MatchString(secret) {
			t.Fatalf("pattern misses %q", secret)
		}
		np := rotation.NewPassword{
			PasswordCredential: rotation.PasswordCredential{KeyID: fxKeyID, DisplayName: "keyturn 7f3a9c2e5b1d4e60", Hint: secret[:3], Start: t0, End: t0.AddDate(0, 6, 0)},
			Secret:             rotation.NewSecret(secret),
		}
		res := fxDone()
		res.KeyID, res.Hint, res.Start, res.End = np.KeyID, np.Hint, np.Start, np.End
		st := fxStatus()
		st.Credentials[0].PasswordCredential = np.PasswordCredential
		req := fxApproval()
		req.State, req.Result = rotation.ApprovalDone, res
		pending := fxApproval()
		pending.Plan.Passwords = append(pending.Plan.Passwords, np.PasswordCredential)
		for name, c := range map[string]Card{
			"result": RotationResult(res), "status": Status(st),
			"approval done": Approval(req, Viewer{}), "approval pending": Approval(pending, Viewer{ObjectID: fxSam.ObjectID, CanDecide: true}),
			"error": Error(fmt.Sprint("store failed: ", np.Secret), "ref"), // a Secret formatted by mistake stays redacted
		} {
			_, raw := Attachment(c)
			if m := secretShaped.Find(raw); m != nil {
				t.Errorf("%s card holds secret-shaped %q", name, m)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files (%v)", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := secretShaped.Find(b); m != nil {
			t.Errorf("%s holds secret-shaped %q", f, m)
		}
	}
}

// markers fills every exported string of a value with a unique marker that
// is also a Markdown link, remembering which field each marker came from.
type markers struct {
	byMarker map[string]string
	n        int
}

var markerPattern = regexp.MustCompile(`\[m[0-9]+\]\(https://evil\.example/m[0-9]+\)`)

// mark returns a new marker for the input named path.
func (m *markers) mark(path string) string {
	m.n++
	s := fmt.Sprintf("[m%d](https://evil.example/m%d)", m.n, m.n)
	m.byMarker[s] = path
	return s
}

func (m *markers) fill(v reflect.Value, path string) {
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		m.n++
		v.Set(reflect.ValueOf(t0.Add(time.Duration(m.n) * time.Hour)))
	case v.Kind() == reflect.String:
		v.SetString(m.mark(path))
	case v.Kind() == reflect.Bool:
		v.SetBool(true)
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				m.fill(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case v.Kind() == reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		m.fill(s.Index(0), path+"[0]")
		v.Set(s)
	}
}

// shown returns the fields whose markers c shows, and those it only
// carries back to the bot (the data of an action, refresh.userIds), where
// nothing is displayed. It fails t if a marker appears anywhere else: only
// a TextRun's text is shown without Markdown.
func (m *markers) shown(t *testing.T, name string, c Card) (shown, carried []string) {
	t.Helper()
	_, raw := Attachment(c)
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// visit checks v, found under key of obj (itself found under objKey);
	// carrying is set inside action data and refresh user IDs.
	var visit func(v any, obj map[string]any, objKey, key string, carrying bool)
	visit = func(v any, obj map[string]any, objKey, key string, carrying bool) {
		switch x := v.(type) {
		case map[string]any:
			typ, _ := x["type"].(string)
			for k, e := range x {
				c := carrying || (k == "data" && strings.HasPrefix(typ, "Action.")) || (k == "userIds" && key == "refresh")
				visit(e, x, key, k, c)
			}
		case []any: // strings in lists count too
			for _, e := range x {
				visit(e, obj, objKey, key, carrying)
			}
		case string:
			for _, mk := range markerPattern.FindAllString(x, -1) {
				switch {
				case carrying:
					carried = append(carried, m.byMarker[mk])
				case obj["type"] == "TextRun" && key == "text":
					shown = append(shown, m.byMarker[mk])
				default:
					t.Errorf("%s: %s shown in %v.%s, where Markdown is read: %q", name, m.byMarker[mk], obj["type"], key, x)
				}
			}
		}
	}
	visit(doc, nil, "", "", false)
	slices.Sort(shown)
	slices.Sort(carried)
	return slices.Compact(shown), slices.Compact(carried)
}

func newMarkers() *markers { return &markers{byMarker: map[string]string{}} }

// TestOutsideDataOnlyInTextRuns fills every input with Markdown links and
// checks each card shows exactly the documented fields, and only in TextRuns.
func TestOutsideDataOnlyInTextRuns(t *testing.T) {
	m := newMarkers()
	var res rotation.Result
	m.fill(reflect.ValueOf(&res).Elem(), "Result")
	resultFields := func(extra ...string) []string {
		f := append([]string{"Result.AppName", "Result.ClientID", "Result.ClientIDURI", "Result.Hint", "Result.KeyID", "Result.RequestID", "Result.SecretURI"}, extra...)
		slices.Sort(f)
		return f
	}

	var st rotation.Status
	m.fill(reflect.ValueOf(&st).Elem(), "Status")
	st.Vault[0].Err, st.Vault[0].Missing = "", false // the first vault secret was read; a second could not be
	var unread rotation.VaultStatus
	m.fill(reflect.ValueOf(&unread).Elem(), "Unread")
	unread.Missing = false
	st.Vault = append(st.Vault, unread)

	s := func(prefix string, names ...string) []string {
		for i := range names {
			names[i] = prefix + names[i]
		}
		return names
	}

	var req rotation.ApprovalRequest
	m.fill(reflect.ValueOf(&req).Elem(), "Request")
	var viewer Viewer
	m.fill(reflect.ValueOf(&viewer).Elem(), "Viewer")
	viewer.Now = req.CreatedAt // before ExpiresAt: still pending
	req.Required = max(req.Required, 1)
	approval := func(state rotation.ApprovalState, v Viewer) func() Card {
		return func() Card { r := req; r.State = state; return Approval(r, v) }
	}
	everyone := viewer
	everyone.CanDecide = false
	requestFields := func(extra ...string) []string {
		return append(append(s("Request.", "AppName", "ClientID", "ClientIDName", "ID", "SecretName", "VaultURI"),
			s("Request.RequestedBy.", "Name", "ObjectID")...), append(s("Request.Approvals[0].By.", "Name", "ObjectID"), extra...)...)
	}
	planFields := s("Request.Plan.", "Notes[0]", "Owners[0].Name", "Owners[0].ObjectID", "Passwords[0].Hint", "Passwords[0].KeyID", "PreviousKeyID")
	carriedByPending := []string{"Request.Digest", "Request.ID", "Viewer.FollowFor[0]", "Viewer.RefreshFor[0]"}
	// Those who clicked keep a refresh in every state (Viewer.FollowFor).
	followed := []string{"Request.Digest", "Request.ID", "Viewer.FollowFor[0]"}

	cases := []struct {
		name    string
		card    func() Card
		want    []string
		carried []string
	}{
		{"result done", func() Card { r := res; r.State = rotation.StateDone; return RotationResult(r) }, resultFields("Result.PreviousKeyID"), nil},
		{"result failed", func() Card { r := res; r.State = rotation.StateFailed; return RotationResult(r) }, resultFields("Result.Error"), nil},
		{"result rolled back", func() Card { r := res; r.State = rotation.StateRolledBack; return RotationResult(r) }, resultFields("Result.Error"), nil},
		{"result unknown state", func() Card { return RotationResult(res) }, resultFields("Result.Error", "Result.State"), nil},
		{"status", func() Card { return Status(st) }, append(append(append(
			s("Status.App.", "ClientID", "DisplayName"),
			s("Status.Credentials[0].", "InVault[0]", "PasswordCredential.DisplayName", "PasswordCredential.Hint", "PasswordCredential.KeyID")...),
			s("Status.Vault[0].", "ID", "KeyID", "Ref.Name", "Ref.VaultURI")...),
			append(s("Status.Unfinished[0].", "ID", "RequestedBy", "State"), s("Unread.Ref.", "Name", "VaultURI")...)...), nil},
		{"help", func() Card {
			return Help(m.mark("help.botName"), []HelpItem{{m.mark("help.usage"), m.mark("help.summary")}}, m.mark("help.example"))
		}, []string{"help.botName", "help.example", "help.summary", "help.usage"}, nil},
		{"welcome", func() Card { return Welcome(m.mark("welcome.botName")) }, []string{"welcome.botName"}, nil},
		{"whoami", func() Card {
			return WhoAmI(m.mark("whoami.name"), m.mark("whoami.objectID"), m.mark("whoami.tenantID"), []string{m.mark("whoami.roles[0]")})
		}, []string{"whoami.name", "whoami.objectID", "whoami.roles[0]", "whoami.tenantID"}, nil},
		{"error", func() Card { return Error(m.mark("error.message"), m.mark("error.referenceID")) }, []string{"error.message", "error.referenceID"}, nil},
		{"approval pending, approver", approval(rotation.ApprovalPending, viewer), requestFields(planFields...), carriedByPending},
		{"approval pending, everyone", approval(rotation.ApprovalPending, everyone), requestFields(planFields...), carriedByPending},
		{"approval approved", approval(rotation.ApprovalApproved, viewer), requestFields(planFields...), followed},
		{"approval running", approval(rotation.ApprovalRunning, viewer), requestFields(planFields...), followed},
		{"approval done", approval(rotation.ApprovalDone, viewer), requestFields(s("Request.Result.", "ClientIDURI", "Hint", "KeyID", "PreviousKeyID", "SecretURI")...), followed},
		{"approval rejected", approval(rotation.ApprovalRejected, viewer), requestFields("Request.Reason", "Request.RejectedBy.Name"), followed},
		{"approval rejected, unnamed", func() Card {
			r := req
			r.State, r.RejectedBy.Name = rotation.ApprovalRejected, ""
			return Approval(r, viewer)
		}, requestFields("Request.Reason", "Request.RejectedBy.ObjectID"), followed},
		{"approval expired", approval(rotation.ApprovalExpired, viewer), requestFields(), followed},
		{"approval failed", approval(rotation.ApprovalFailed, viewer), requestFields("Request.Reason"), followed},
		{"approval superseded", approval(rotation.ApprovalSuperseded, viewer), requestFields(), followed},
		{"approval unknown state", func() Card { return Approval(req, viewer) }, requestFields(append(planFields, "Request.State")...), followed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, wantCarried := slices.Clone(tc.want), slices.Clone(tc.carried)
			slices.Sort(want)
			slices.Sort(wantCarried)
			got, carried := m.shown(t, tc.name, tc.card())
			if !slices.Equal(got, want) {
				t.Errorf("fields shown:\n got %s\nwant %s", strings.Join(got, " "), strings.Join(want, " "))
			}
			if !slices.Equal(carried, wantCarried) {
				t.Errorf("fields carried in action data:\n got %s\nwant %s", strings.Join(carried, " "), strings.Join(wantCarried, " "))
			}
		})
	}
}

func TestClipBoundsOutsideText(t *testing.T) {
	long := strings.Repeat("é", 5000)
	_, raw := Attachment(Error(long, "ref"))
	if n := strings.Count(string(raw), "é"); n != maxText-1 {
		t.Errorf("error card shows %d runes of a 5000-rune message, want %d", n, maxText-1)
	}
	if got := clip("bad\xffutf8"); got != "bad\uFFFDutf8" {
		t.Errorf("clip(invalid UTF-8) = %q", got)
	}
}
