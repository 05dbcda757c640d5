package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// bodyExcerpt is how much of an answer is recorded.
	bodyExcerpt = 1024
	// drainLimit is how much of an answer is read to reuse the connection.
	drainLimit = 64 << 10
	// maxRetryAfter caps a receiver's Retry-After.
	maxRetryAfter = 24 * time.Hour
	// userAgent identifies deliveries to receivers.
	userAgent = "Paylink-Webhooks/1"
)

// Target is an endpoint as a request reaches it: its URL and its sealed
// secrets, the previous one signing too until PreviousExpires.
type Target struct {
	EndpointID      string
	URL             string
	Secret          []byte
	Previous        []byte
	PreviousExpires *time.Time
}

// Answer is what one signed POST gave.
type Answer struct {
	Status     int    // 0 when no HTTP answer came
	Body       string // the first bytes of the answer
	Err        string // why it failed, "" on success
	Latency    time.Duration
	RetryAfter time.Duration // the receiver's Retry-After, 0 when none
}

// Timeout bounds one request: connect, send, answer.
func (s *Service) Timeout() time.Duration { return s.cfg.Timeout }

// Send signs ev with t's secrets and POSTs it to t at now, as every
// delivery and ping is sent (Standard Webhooks headers, the guarded
// client, the timeout). An error means no request was made; a request
// that failed is an Answer with Err set.
func (s *Service) Send(ctx context.Context, t Target, ev *Event, now time.Time) (Answer, error) {
	body, err := ev.Envelope()
	if err != nil {
		return Answer{}, err
	}
	secrets, err := s.secrets(t.EndpointID, t.Secret, t.Previous, t.PreviousExpires, now)
	if err != nil {
		return Answer{}, err
	}
	sig, err := signatureHeader(secrets, ev.ID, now.Unix(), body)
	if err != nil {
		return Answer{}, err
	}
	return s.post(ctx, t.URL, ev.ID, now.Unix(), sig, body), nil
}

// post makes one request and describes its answer.
func (s *Service) post(ctx context.Context, target, msgID string, ts int64, sig string, body []byte) Answer {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Answer{Err: "invalid request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return Answer{Err: describe(err, s.cfg.Timeout), Latency: time.Since(start)}
	}
	defer resp.Body.Close()
	excerpt, readErr := io.ReadAll(io.LimitReader(resp.Body, bodyExcerpt))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	r := Answer{Status: resp.StatusCode, Body: cleanText(excerpt), Latency: time.Since(start)}
	switch {
	case readErr != nil && resp.StatusCode/100 == 2:
		// The answer did not arrive whole in time: not a success.
		r.Err = "reading the answer: " + describe(readErr, s.cfg.Timeout)
	case resp.StatusCode/100 == 3:
		r.Err = "redirects are not followed; answer 2xx from the registered URL"
	case resp.StatusCode/100 != 2:
		r.Err = fmt.Sprintf("answered %d", resp.StatusCode)
	}
	r.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return r
}

// describe turns a client error into a short reason for the attempt log.
func describe(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, errAddressNotAllowed):
		return "connection refused by Paylink: " + err.Error() + " (private, loopback or metadata address)"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("no complete answer within %s", timeout)
	}
	return err.Error()
}

// cleanText makes an answer excerpt storable: valid UTF-8, no NUL bytes.
func cleanText(b []byte) string {
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", "")
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when
// absent or unreadable, at most maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
