package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keyturn/keyturn/manifest"
)

// manifestFlags are the flags of `keyturn manifest`.
type manifestFlags struct {
	manifest.Options
	Out string
}

// manifestDefaults are the flags' defaults: the one place they are set.
// The README's table of the flags is tested against them.
var manifestDefaults = manifestFlags{
	Options: manifest.Options{
		Name:      "Keyturn",
		Developer: "Keyturn",
		Domain:    "keyturn.example.com",
		Version:   "1.0.0",
	},
	Out: "keyturn.zip",
}

// manifestFlag is one flag of `keyturn manifest`: its name, the
// manifest.Options field it sets ("" for none), where it is stored and
// its help.
type manifestFlag struct {
	name, field string
	value       *string
	usage       string
}

// flags lists the flags that fill f, in the order help shows them.
func (f *manifestFlags) flags() []manifestFlag {
	return []manifestFlag{
		{"app-id", "AppID", &f.AppID, "the bot's Microsoft App ID (MicrosoftAppId), a GUID; also the Teams app's ID (required)"},
		{"name", "Name", &f.Name, "the app's full name, at most 100 characters"},
		{"short-name", "ShortName", &f.ShortName, "the name Teams shows where space is short, at most 30 characters (default: --name)"},
		{"developer", "Developer", &f.Developer, "the publisher's name, at most 32 characters"},
		{"domain", "Domain", &f.Domain, "host name of the bot's messaging endpoint, without https:// or a path: the manifest's valid domain"},
		{"website-url", "WebsiteURL", &f.WebsiteURL, "the publisher's website (default: https://<domain>/)"},
		{"privacy-url", "PrivacyURL", &f.PrivacyURL, "the privacy statement (default: https://<domain>/)"},
		{"terms-url", "TermsURL", &f.TermsURL, "the terms of use (default: https://<domain>/)"},
		{"app-version", "Version", &f.Version, "the app's version; raise it to replace an app already uploaded"},
		{"out", "", &f.Out, "the zip to write"},
	}
}

const manifestHelp = `Usage: keyturn manifest --app-id <bot-app-id> [flags]

Writes the Teams app package for Keyturn's bot: a zip with manifest.json
(schema %s) and its two icons, to upload in Teams (Apps, Manage your apps,
Upload an app) or in the Teams admin center. Nothing is written when a flag
is wrong.

Flags:
`

// manifestCmd is `keyturn manifest`: it writes the Teams app package.
func (c *cli) manifestCmd(args []string) int {
	f := manifestDefaults
	fs, flags := c.manifestFlagSet(&f)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if f.Out == "" {
		fmt.Fprintln(c.stderr, "--out: is empty; name the zip to write")
		return exitUsage
	}
	m, err := manifest.New(f.Options)
	if err != nil {
		c.manifestProblems(err, flags)
		return exitUsage
	}
	pkg, err := m.Zip()
	if err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return exitFailure
	}
	if err := writeFileAtomic(f.Out, pkg); err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "wrote %s: the Teams app %q %s for bot %s, valid domain %s (manifest schema %s).\n"+
		"Upload it in Teams (Apps, Manage your apps, Upload an app) or in the Teams admin center.\n",
		f.Out, m.Name.Short, m.Version, m.ID, m.ValidDomains[0], m.ManifestVersion)
	return exitOK
}

// manifestFlagSet returns the flag set that fills f, its defaults being
// f's values, and the flags it holds.
func (c *cli) manifestFlagSet(f *manifestFlags) (*flag.FlagSet, []manifestFlag) {
	fs := c.flags("manifest")
	flags := f.flags()
	for _, fl := range flags {
		fs.StringVar(fl.value, fl.name, *fl.value, fl.usage)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), manifestHelp, manifest.SchemaVersion)
		fs.PrintDefaults()
	}
	return fs, flags
}

// manifestProblems prints each problem of a manifest.Package error under
// the flag that sets the field.
func (c *cli) manifestProblems(err error, flags []manifestFlag) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var fe *manifest.FieldError
		if !errors.As(e, &fe) {
			fmt.Fprintf(c.stderr, "error: %v\n", e)
			continue
		}
		name := fe.Field
		for _, fl := range flags {
			if fl.field == fe.Field {
				name = "--" + fl.name
			}
		}
		fmt.Fprintf(c.stderr, "%s: %s\n", name, fe.Reason)
	}
	fmt.Fprintln(c.stderr, `nothing written; run "keyturn manifest -h" for the flags`)
}

// writeFileAtomic writes data to path through a temporary file in the
// same directory, so path is either left as it was or holds all of data.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keyturn-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
