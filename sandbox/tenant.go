package sandbox

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// DemoTenant is the built-in demo tenant file, written to the state
// directory on first start so it can be edited there.
//
//go:embed demo-tenant.jsonc
var demoTenant []byte

// DemoTenant returns a copy of the built-in demo tenant file.
func DemoTenant() []byte { return bytes.Clone(demoTenant) }

// Tenant is the demo tenant file: the directory (people, groups, directory
// and app roles, app registrations), the vaults, and the Teams team the page
// shows. Who may do what is not here: that is the policy file, in the
// production format (package policy). Field comments are the file's
// documentation; demo-tenant.jsonc shows every field.
type Tenant struct {
	Tenant    Org          `json:"tenant"`
	Bot       BotInfo      `json:"bot"`
	Team      Team         `json:"team"`
	Channels  []Channel    `json:"channels"`
	Directory DirectoryDef `json:"directory"`
	Users     []User       `json:"users"`
	// Vaults are the tenant's Key Vaults (by default, the policy's allowed
	// vaults).
	Vaults []VaultDef `json:"vaults"`
	Apps   []AppDef   `json:"apps"`
	// PropagationSeconds is how long a new client secret is refused by the
	// simulated token endpoint (Entra ID takes seconds to minutes).
	PropagationSeconds int `json:"propagationSeconds"`
}

// Org is the Entra tenant.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// BotInfo is Keyturn's own registration: its name in mentions and its App
// ID (the bot's account is "28:<appId>"; never rotated).
type BotInfo struct {
	Name  string `json:"name"`
	AppID string `json:"appId"`
}

// Team is the Teams team the page shows.
type Team struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	AADGroupID string `json:"aadGroupId"`
}

// Channel is one channel of the team. Audit marks the channel shown in the
// audit pane (where the bot's audit trail is posted); Radar the one where
// the expiry radar posts its warnings.
type Channel struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Audit bool   `json:"audit,omitempty"`
	Radar bool   `json:"radar,omitempty"`
}

// DirectoryDef lists the directory objects users can hold.
type DirectoryDef struct {
	Groups         []DirEntry `json:"groups"`
	DirectoryRoles []DirEntry `json:"directoryRoles"`
	AppRoles       []DirEntry `json:"appRoles"`
}

// DirEntry is a group (object ID), a directory role (role template ID) or
// an app role of Keyturn's enterprise app (app role ID). Names are unique
// across all three kinds; users and groups refer to entries by name. A
// group's MemberOf makes it a member of other groups, holder of directory
// roles (a role-assignable group) or assignee of app roles, and so are its
// members, as in Entra ID.
type DirEntry struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	MemberOf []string `json:"memberOf,omitempty"`
}

// User is a person of the tenant. Key is the short handle the page uses
// (?as=megan); the object ID is what Keyturn authorizes on.
type User struct {
	Key      string   `json:"key"`
	Name     string   `json:"name"`
	ObjectID string   `json:"objectId"`
	Title    string   `json:"title"`
	MemberOf []string `json:"memberOf"`
}

// VaultDef is a Key Vault. NoAccess simulates a vault where Keyturn has no
// role (every call is refused).
type VaultDef struct {
	Name     string `json:"name"`
	NoAccess bool   `json:"noAccess,omitempty"`
}

// AppDef is an app registration. Owned says whether Keyturn's service
// principal is among its owners (otherwise changes are refused, as with
// Application.ReadWrite.OwnedBy). Its alias, vault and secret names are the
// policy file's.
type AppDef struct {
	DisplayName string       `json:"displayName"`
	ClientID    string       `json:"clientId"`
	ObjectID    string       `json:"objectId"`
	Owned       bool         `json:"owned"`
	Secrets     []ExistingPW `json:"secrets"`
}

// ExistingPW is a client secret that exists before Keyturn's first
// rotation. InVault also stores it (and the client ID) in the vault the
// policy gives the app, as if someone had done it by hand.
type ExistingPW struct {
	DisplayName string `json:"displayName"`
	DaysLeft    int    `json:"daysLeft"`
	InVault     bool   `json:"inVault,omitempty"`
}

// LoadTenant reads and checks the tenant file at path.
func LoadTenant(path string) (*Tenant, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tenant file: %w", err)
	}
	t, err := ParseTenant(b)
	if err != nil {
		return nil, fmt.Errorf("tenant file %s: %w", path, err)
	}
	return t, nil
}

// ParseTenant decodes a tenant file (JSON; lines whose first non-blank
// characters are // are comments) and reports every problem at once.
// Unknown fields are errors, so typos do not pass silently.
func ParseTenant(b []byte) (*Tenant, error) {
	dec := json.NewDecoder(bytes.NewReader(stripComments(b)))
	dec.DisallowUnknownFields()
	var t Tenant
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode: more than one JSON value")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// stripComments blanks full-line // comments, keeping line numbers.
func stripComments(b []byte) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("//")) {
			out.Write(line)
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// VaultURI returns the canonical URI of the vault named name.
func VaultURI(name string) string {
	return "https://" + strings.ToLower(name) + ".vault.azure.net/"
}

// VaultURIs returns the canonical URIs of the tenant's vaults.
func (t *Tenant) VaultURIs() []string {
	out := make([]string, len(t.Vaults))
	for i, v := range t.Vaults {
		out[i] = VaultURI(v.Name)
	}
	return out
}

// UserByKey returns the user whose handle is key.
func (t *Tenant) UserByKey(key string) (User, bool) {
	for _, u := range t.Users {
		if strings.EqualFold(u.Key, key) {
			return u, true
		}
	}
	return User{}, false
}

// ChannelByID returns the channel whose conversation ID is id.
func (t *Tenant) ChannelByID(id string) (Channel, bool) {
	for _, c := range t.Channels {
		if c.ID == id {
			return c, true
		}
	}
	return Channel{}, false
}

// AuditChannel returns the channel marked audit, if any.
func (t *Tenant) AuditChannel() (Channel, bool) {
	return t.channel(func(c Channel) bool { return c.Audit })
}

// RadarChannel returns the channel marked radar, if any.
func (t *Tenant) RadarChannel() (Channel, bool) {
	return t.channel(func(c Channel) bool { return c.Radar })
}

func (t *Tenant) channel(is func(Channel) bool) (Channel, bool) {
	for _, c := range t.Channels {
		if is(c) {
			return c, true
		}
	}
	return Channel{}, false
}

// BotAccountID is the bot's account ID in conversations ("28:<appId>").
func (t *Tenant) BotAccountID() string { return "28:" + t.Bot.AppID }
