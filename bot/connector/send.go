package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/keyturn/keyturn/bot/activity"
)

// maxResponseBytes bounds how much of a connector answer is read.
const maxResponseBytes = 1 << 20

// call describes one client operation.
type call struct {
	method, op string
	id         string // activity ID path segment, when withID
	withID     bool   // replies and updates
	noRetry    bool   // typing: a late indicator is worse than none
}

// send marshals act and sends it to the activities endpoint of ref,
// retrying throttled answers unless k.noRetry. It returns the ID the
// connector gave the activity.
func (c *Client) send(ctx context.Context, k call, ref activity.ConversationReference, act Activity) (string, error) {
	endpoint, err := c.endpoint(ref, k.id, k.withID)
	if err != nil {
		return "", fmt.Errorf("%s: %w", k.op, err)
	}
	body, err := encode(act)
	if err != nil {
		return "", fmt.Errorf("%s: encode activity: %w", k.op, err)
	}
	data, err := c.do(ctx, k, endpoint, body)
	if err != nil {
		return "", err
	}
	var answer struct {
		ID string `json:"id"`
	}
	// The activity was accepted: an unreadable body costs only its ID.
	if len(bytes.TrimSpace(data)) > 0 && json.Unmarshal(data, &answer) != nil {
		c.log.WarnContext(ctx, "connector answer without readable id", "operation", k.op)
	}
	c.log.DebugContext(ctx, "connector request sent", "operation", k.op, "activity_id", answer.ID)
	return answer.ID, nil
}

// do sends one request to endpoint, retrying throttled answers unless
// k.noRetry, and returns the body of the 2xx answer.
func (c *Client) do(ctx context.Context, k call, endpoint string, body []byte) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		data, status, retryAfter, err := c.attempt(ctx, k.method, endpoint, body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.op, err)
		}
		if status == nil {
			return data, nil
		}
		if (status.StatusCode != http.StatusTooManyRequests && status.StatusCode != http.StatusServiceUnavailable) ||
			attempt >= c.maxAttempts || k.noRetry {
			c.log.WarnContext(ctx, "connector request failed", "operation", k.op,
				"status", status.StatusCode, "error_code", status.Code, "attempt", attempt)
			return nil, fmt.Errorf("%s: %w", k.op, status)
		}
		wait := c.retryWait(retryAfter, attempt)
		c.log.InfoContext(ctx, "connector throttled", "operation", k.op, "status", status.StatusCode,
			"attempt", attempt, "retry_after_ms", wait.Milliseconds())
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s: wait to retry: %w", k.op, err)
		}
	}
}

// attempt sends one request. A non-2xx answer is returned as a
// *StatusError (with the raw Retry-After header) and a nil error; err is
// for failures to obtain a token or to get an answer at all.
func (c *Client) attempt(ctx context.Context, method, endpoint string, body []byte) (data []byte, status *StatusError, retryAfter string, err error) {
	token, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, nil, "", fmt.Errorf("get connector token: %w", err)
	}
	if token == "" {
		return nil, nil, "", fmt.Errorf("get connector token: %w", ErrEmptyToken)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, rd)
	if err != nil {
		return nil, nil, "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, "", err
	}
	defer resp.Body.Close()
	data, _ = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil, "", nil
	}
	return nil, &StatusError{Method: method, StatusCode: resp.StatusCode, Code: errorCode(data)},
		resp.Header.Get("Retry-After"), nil
}

// errorCode returns the connector's error code from an error body
// ({"error":{"code":...}}) when it is a short identifier, else "".
func errorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Error.Code) > 100 {
		return ""
	}
	for _, r := range e.Error.Code {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-' || r == '.') {
			return ""
		}
	}
	return e.Error.Code
}

// retryWait returns how long to wait before attempt+1: the Retry-After
// header (delay-seconds or an HTTP date), else exponential backoff from one
// second; never more than maxRetryAfter.
func (c *Client) retryWait(header string, attempt int) time.Duration {
	wait, ok := parseRetryAfter(header, c.now())
	if !ok {
		wait = time.Second << min(attempt-1, 10)
	}
	return min(wait, c.maxRetryAfter)
}

// parseRetryAfter reads a Retry-After value relative to now. Dates in the
// past mean no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
