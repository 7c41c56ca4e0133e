package botauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// fetch reads the metadata document, then the JWKS it names.
func (s *KeySource) fetch(ctx context.Context) (*keySet, error) {
	var meta openIDMetadata
	body, err := s.get(ctx, s.metadataURL)
	if err != nil {
		return nil, fmt.Errorf("fetch openid metadata: %w", err)
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, fmt.Errorf("decode openid metadata: %w", err)
	}
	algs := allowedAlgorithms(meta.SigningAlgs)
	if len(algs) == 0 {
		return nil, fmt.Errorf("openid metadata lists no supported signing algorithm (%q)", meta.SigningAlgs)
	}
	if meta.JWKSURI == "" {
		return nil, errors.New("openid metadata has no jwks_uri")
	}
	if _, err := checkFetchURL(meta.JWKSURI); err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	body, err = s.get(ctx, meta.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks: %w", err)
	}
	keys, skipped, err := parseJWKS(body, algs)
	for _, reason := range skipped {
		s.log.WarnContext(ctx, "bot signing key skipped", slog.String("reason", reason))
	}
	if err != nil {
		return nil, err
	}
	return &keySet{keys: keys, fetchedAt: s.now()}, nil
}

// get fetches one document: status 200, at most maxBytes, final URL
// (after redirects) still https or loopback. The body is always closed.
func (s *KeySource) get(ctx context.Context, rawURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	final := req.URL
	if resp.Request != nil {
		final = resp.Request.URL
	}
	if err := checkScheme(final); err != nil {
		return nil, fmt.Errorf("redirected: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > s.maxBytes {
		return nil, fmt.Errorf("body exceeds %d bytes", s.maxBytes)
	}
	return body, nil
}
