package manifest

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyturn/keyturn/bot/command"
)

// SchemaVersion is the Teams app manifest schema the package is written
// for: the newest generally available version that the validator in
// tools/manifestcheck bundles (its test fails when the validator bundles a
// newer one, as a reminder to check it and move on).
const SchemaVersion = "1.30"

// SchemaURL is the published JSON schema of SchemaVersion.
const SchemaURL = "https://developer.microsoft.com/json-schemas/teams/v" + SchemaVersion + "/MicrosoftTeams.schema.json"

// File names inside the package.
const (
	ManifestFile = "manifest.json"
	ColorIcon    = "color.png"
	OutlineIcon  = "outline.png"
)

// AccentColor is the background of the colour icon and the manifest's
// accentColor.
const AccentColor = "#1F5AA6"

// Scopes are where the bot can be installed: channels of a team, group
// chats (meeting chats included) and one-to-one chats.
var Scopes = []string{"team", "groupChat", "personal"}

// Limits of a bot's command menu as the schemas up to 1.19 set them (later
// ones allow longer titles and descriptions, and 12 commands): staying
// within them keeps the menu readable in every Teams client.
const (
	maxCommands           = 10
	maxCommandTitle       = 32
	maxCommandDescription = 128
)

// Options describe one deployment's app package. Every field is required
// except ShortName (the Name when empty) and the developer URLs (each
// https://<Domain>/ when empty).
type Options struct {
	// AppID is the bot's Microsoft App ID (MicrosoftAppId): the bot's ID
	// and the Teams app's ID, so a newer package updates the same app.
	AppID string
	// Name is the app's full name (at most 100 characters).
	Name string
	// ShortName is the name Teams shows where space is short (at most 30
	// characters).
	ShortName string
	// Developer is the publisher's name (at most 32 characters).
	Developer string
	// Domain is the host name the bot is reached at, without scheme, port
	// or path: the manifest's only valid domain.
	Domain string
	// WebsiteURL, PrivacyURL and TermsURL are the developer's https pages.
	WebsiteURL, PrivacyURL, TermsURL string
	// Version is the app's version (major.minor.patch). Teams replaces an
	// uploaded app only by a package with a higher version.
	Version string
}

// FieldError is a problem with one field of Options.
type FieldError struct {
	// Field is the name of the Options field, such as "AppID".
	Field string
	// Reason says what is wrong, in words for people; it quotes the value.
	Reason string
}

// Error returns the field and reason.
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

var (
	guidPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	semverPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	labelPattern  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// normalize fills the defaults of o and checks every field; the error
// joins a *FieldError per problem.
func (o Options) normalize() (Options, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	o.AppID = strings.ToLower(strings.TrimSpace(o.AppID))
	if o.AppID == "" {
		bad("AppID", "is required: the bot's Microsoft App ID (MicrosoftAppId), a GUID")
	} else if !guidPattern.MatchString(o.AppID) {
		bad("AppID", "%q is not a GUID; give the bot's Microsoft App ID (MicrosoftAppId), such as 00000000-0000-0000-0000-000000000000", o.AppID)
	}
	if o.ShortName == "" {
		if n := utf8.RuneCountInString(o.Name); n > 30 {
			bad("ShortName", "is needed: the name has %d characters and Teams shows at most 30", n)
		} else {
			o.ShortName = o.Name
		}
	}
	text := func(field, v string, limit int) {
		switch n := utf8.RuneCountInString(v); {
		case strings.TrimSpace(v) == "":
			bad(field, "is empty")
		case n > limit:
			bad(field, "%q has %d characters; Teams allows at most %d", v, n, limit)
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			bad(field, "%q contains a control character", v)
		}
	}
	text("Name", o.Name, 100)
	if o.ShortName != "" || o.Name == "" {
		text("ShortName", o.ShortName, 30)
	}
	text("Developer", o.Developer, 32)
	domainOK := false
	if o.Domain, domainOK = checkDomain(o.Domain, bad); domainOK {
		for _, u := range []*string{&o.WebsiteURL, &o.PrivacyURL, &o.TermsURL} {
			if *u == "" {
				*u = "https://" + o.Domain + "/"
			}
		}
	}
	for _, u := range []struct{ field, v string }{{"WebsiteURL", o.WebsiteURL}, {"PrivacyURL", o.PrivacyURL}, {"TermsURL", o.TermsURL}} {
		if u.v == "" && !domainOK {
			continue // defaults to the domain, whose problem is reported
		}
		p, err := url.Parse(u.v)
		if err != nil || p.Scheme != "https" || p.Host == "" || p.User != nil || len(u.v) > 2048 {
			bad(u.field, "%q is not an https URL", u.v)
		}
	}
	if !semverPattern.MatchString(o.Version) {
		bad("Version", "%q is not a version of the form major.minor.patch, such as 1.0.0", o.Version)
	}
	return o, errors.Join(errs...)
}

// checkDomain returns d lower-cased if it is a plain host name, and
// reports through bad why not otherwise.
func checkDomain(d string, bad func(field, format string, args ...any)) (string, bool) {
	host := strings.ToLower(strings.TrimSpace(d))
	switch {
	case host == "":
		bad("Domain", "is empty; give the host name of the bot's messaging endpoint, such as keyturn.example.com")
	case strings.Contains(host, "://"):
		bad("Domain", "%q has a scheme; give the host name only, such as keyturn.example.com", d)
	case strings.ContainsAny(host, "/?#"):
		bad("Domain", "%q has a path; give the host name only, such as keyturn.example.com", d)
	case strings.ContainsAny(host, ":@"):
		bad("Domain", "%q has a port or user; give the host name only, such as keyturn.example.com", d)
	case strings.Contains(host, "*"):
		bad("Domain", "%q is a wildcard; give the one host name the bot is reached at", d)
	default:
		labels := strings.Split(host, ".")
		ok := len(host) <= 253 && len(labels) >= 2
		for _, l := range labels {
			ok = ok && labelPattern.MatchString(l)
		}
		if ok {
			return host, true
		}
		bad("Domain", "%q is not a host name such as keyturn.example.com", d)
	}
	return host, false
}

// Manifest is the Teams app manifest, with the fields Keyturn sets, in
// the order Microsoft's examples write them.
type Manifest struct {
	Schema                 string          `json:"$schema"`
	ManifestVersion        string          `json:"manifestVersion"`
	Version                string          `json:"version"`
	ID                     string          `json:"id"`
	Developer              Developer       `json:"developer"`
	Name                   Name            `json:"name"`
	Description            Description     `json:"description"`
	Icons                  Icons           `json:"icons"`
	AccentColor            string          `json:"accentColor"`
	Bots                   []Bot           `json:"bots"`
	ValidDomains           []string        `json:"validDomains"`
	DefaultInstallScope    string          `json:"defaultInstallScope"`
	DefaultGroupCapability GroupCapability `json:"defaultGroupCapability"`
}

// Developer is the publisher.
type Developer struct {
	Name          string `json:"name"`
	WebsiteURL    string `json:"websiteUrl"`
	PrivacyURL    string `json:"privacyUrl"`
	TermsOfUseURL string `json:"termsOfUseUrl"`
}

// Name is the app's name.
type Name struct {
	Short string `json:"short"`
	Full  string `json:"full"`
}

// Description is the app's description.
type Description struct {
	Short string `json:"short"`
	Full  string `json:"full"`
}

// Icons are the package's icon files.
type Icons struct {
	Color   string `json:"color"`
	Outline string `json:"outline"`
}

// Bot is the manifest's bot. Keyturn is conversational: it exchanges no
// files and takes no calls.
type Bot struct {
	BotID              string        `json:"botId"`
	Scopes             []string      `json:"scopes"`
	CommandLists       []CommandList `json:"commandLists"`
	IsNotificationOnly bool          `json:"isNotificationOnly"`
	SupportsFiles      bool          `json:"supportsFiles"`
	SupportsCalling    bool          `json:"supportsCalling"`
	SupportsVideo      bool          `json:"supportsVideo"`
}

// CommandList is the command menu for some scopes.
type CommandList struct {
	Scopes   []string  `json:"scopes"`
	Commands []Command `json:"commands"`
}

// Command is one entry of a command menu: Teams inserts the title after
// the bot's mention.
type Command struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// GroupCapability is what a team or group chat install adds by default.
type GroupCapability struct {
	Team      string `json:"team"`
	GroupChat string `json:"groupchat"`
}

const (
	shortDescription = "Rotates Entra ID app secrets into Azure Key Vault, with approval."
	fullDescription  = "Keyturn creates a new client secret for an Entra ID application, " +
		"stores it straight in Azure Key Vault, proves it works and retires the old one after an overlap window. " +
		"A rotation asked for in a channel or chat needs a second person's approval, and every request, " +
		"decision and step is audited. No person ever sees a secret: Keyturn shows only vault URIs."
)

// New returns the manifest for o, or an error joining a *FieldError per
// problem with o.
func New(o Options) (Manifest, error) {
	o, err := o.normalize()
	if err != nil {
		return Manifest{}, err
	}
	commands, err := Commands()
	if err != nil {
		return Manifest{}, err
	}
	lists := make([]CommandList, 0, len(Scopes))
	for _, s := range Scopes {
		// Microsoft's guidance: one command list per scope.
		lists = append(lists, CommandList{Scopes: []string{s}, Commands: commands})
	}
	return Manifest{
		Schema:          SchemaURL,
		ManifestVersion: SchemaVersion,
		Version:         o.Version,
		ID:              o.AppID,
		Developer:       Developer{Name: o.Developer, WebsiteURL: o.WebsiteURL, PrivacyURL: o.PrivacyURL, TermsOfUseURL: o.TermsURL},
		Name:            Name{Short: o.ShortName, Full: o.Name},
		Description:     Description{Short: shortDescription, Full: fullDescription},
		Icons:           Icons{Color: ColorIcon, Outline: OutlineIcon},
		AccentColor:     AccentColor,
		Bots: []Bot{{
			BotID:        o.AppID,
			Scopes:       append([]string(nil), Scopes...),
			CommandLists: lists,
		}},
		ValidDomains:           []string{o.Domain},
		DefaultInstallScope:    "team",
		DefaultGroupCapability: GroupCapability{Team: "bot", GroupChat: "bot"},
	}, nil
}

// Commands returns the command menu: one entry per command of bot/command's
// grammar, titled with its verb and described by its usage and summary.
// The error reports a command that would not fit Teams' limits.
func Commands() ([]Command, error) {
	var out []Command
	var errs []error
	for _, c := range command.Commands() {
		d := c.Summary
		if c.Usage != string(c.Verb) {
			d = c.Usage + ": " + c.Summary
		}
		if n := utf8.RuneCountInString(string(c.Verb)); n > maxCommandTitle {
			errs = append(errs, fmt.Errorf("command %q: title of %d characters, Teams shows at most %d", c.Verb, n, maxCommandTitle))
		}
		if n := utf8.RuneCountInString(d); n > maxCommandDescription {
			errs = append(errs, fmt.Errorf("command %q: description of %d characters, Teams shows at most %d", c.Verb, n, maxCommandDescription))
		}
		out = append(out, Command{Title: string(c.Verb), Description: d})
	}
	if len(out) > maxCommands {
		errs = append(errs, fmt.Errorf("%d commands, Teams shows at most %d", len(out), maxCommands))
	}
	return out, errors.Join(errs...)
}
