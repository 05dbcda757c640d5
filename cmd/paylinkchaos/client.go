package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// request is one API call of an operation; it is sent again, with the
// same Idempotency-Key, until its answer is definitive.
type request struct {
	method, url string
	body        any
	key         string // Idempotency-Key; "" for none
	basic       [2]string
	cookie      string
}

// answer is the definitive answer to a request.
type answer struct {
	status   int
	body     []byte
	code     string // error code, when the body is an error
	replayed bool
	attempts int
	firstTry bool // the first attempt was definitive
	at       time.Time
}

// client sends requests and retries the ones whose answer is not
// definitive: no answer, a 5xx, 429, or 409 idempotency_key_in_use.
type client struct {
	http *http.Client
	// giveUp bounds the retries of one request.
	giveUp time.Duration
}

func newClient() *client {
	return &client{
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}},
		giveUp: 3 * time.Minute,
	}
}

// errUndecided is an operation that got no definitive answer in time.
var errUndecided = errors.New("no definitive answer")

// do sends r until definitive, waiting Retry-After (else a backoff from
// 50 ms to 1 s) between attempts.
func (c *client) do(ctx context.Context, r request) (answer, error) {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return answer{}, err
		}
	}
	deadline := time.Now().Add(c.giveUp)
	backoff := 50 * time.Millisecond
	var last string
	for attempt := 1; ; attempt++ {
		a, wait, err := c.once(ctx, r, body)
		a.attempts, a.firstTry = attempt, attempt == 1
		if err == nil {
			return a, nil
		}
		last = err.Error()
		if ctx.Err() != nil {
			return a, ctx.Err()
		}
		if time.Now().After(deadline) {
			return a, fmt.Errorf("%w after %d attempts: %s %s: last %s", errUndecided, attempt, r.method, r.url, last)
		}
		if wait == 0 {
			wait = backoff
			backoff = min(backoff*2, time.Second)
		}
		select {
		case <-ctx.Done():
			return a, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// once makes one attempt; an error means "not definitive, retry after
// the returned wait (0: back off)".
func (c *client) once(ctx context.Context, r request, body []byte) (answer, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(body))
	if err != nil {
		return answer{}, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	if r.basic[0] != "" {
		req.SetBasicAuth(r.basic[0], r.basic[1])
	}
	if r.cookie != "" {
		req.Header.Set("Cookie", r.cookie)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, 0, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return answer{}, 0, err
	}
	a := answer{status: res.StatusCode, body: b, replayed: res.Header.Get("Idempotent-Replayed") == "true", at: time.Now()}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if res.StatusCode >= 400 && json.Unmarshal(b, &e) == nil {
		a.code = e.Error.Code
	}
	if res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests ||
		res.StatusCode == http.StatusConflict && a.code == "idempotency_key_in_use" {
		wait := time.Duration(0)
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		return a, wait, fmt.Errorf("%d %s", res.StatusCode, a.code)
	}
	return a, 0, nil
}

// decodeInto reads a's body into v, failing on an unexpected status.
func decodeInto(a answer, want int, v any) error {
	if a.status != want {
		return fmt.Errorf("status %d (%s), want %d: %.300s", a.status, a.code, want, a.body)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(a.body, v)
}
