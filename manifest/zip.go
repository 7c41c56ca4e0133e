package manifest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// modified is the time stamped on every file of the package, so the same
// options always give the same bytes.
var modified = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// JSON returns m as manifest.json: indented, ending in a newline, with no
// HTML escaping (so "<app>" stays readable).
func (m Manifest) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Package returns the app package for o (see Manifest.Zip). The error
// joins a *FieldError per problem with o; nothing is built then.
func Package(o Options) ([]byte, error) {
	m, err := New(o)
	if err != nil {
		return nil, err
	}
	return m.Zip()
}

// Zip returns the app package of m: a zip holding manifest.json and the
// two icons at its root, ready to upload to Teams.
func (m Manifest) Zip() ([]byte, error) {
	doc, err := m.JSON()
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	color, err := encodePNG(colorIcon())
	if err != nil {
		return nil, fmt.Errorf("encode colour icon: %w", err)
	}
	outline, err := encodePNG(outlineIcon())
	if err != nil {
		return nil, fmt.Errorf("encode outline icon: %w", err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range []struct {
		name string
		data []byte
	}{{ManifestFile, doc}, {ColorIcon, color}, {OutlineIcon, outline}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return b.Bytes(), nil
}
