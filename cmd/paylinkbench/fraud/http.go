package fraud

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// merchantSetup is one benchmark merchant: its API key and its catalog's
// reusable links (checkout path and query), one per catalog item.
type merchantSetup struct {
	basic  string // "key:secret"
	median int64
	links  []string
}

// client talks to one running Paylink API.
type client struct {
	base string
	http *http.Client
}

// call makes one merchant API request (basic is "key:secret" or empty)
// and decodes a 2xx answer into out.
func (c *client) call(ctx context.Context, method, path, basic string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if id, secret, ok := strings.Cut(basic, ":"); ok {
		req.SetBasicAuth(id, secret)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %.300s", method, path, res.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}

// setup signs up n merchants, each with a median price from medians and
// a reusable link per catalog item.
func (c *client) setup(ctx context.Context, n int) ([]merchantSetup, error) {
	out := make([]merchantSetup, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	run := hex.EncodeToString(random(4))
	for i := range n {
		wg.Go(func() {
			var su struct {
				APIKey struct{ ID, Secret string } `json:"api_key"`
			}
			if err := c.call(ctx, "POST", "/v1/merchants", "", map[string]string{"name": fmt.Sprintf("Fraud bench %d", i),
				"email": fmt.Sprintf("fraud-%s-%d@bench.test", run, i), "password": "bench-password-" + run}, &su); err != nil {
				errs <- err
				return
			}
			m := merchantSetup{basic: su.APIKey.ID + ":" + su.APIKey.Secret, median: medians[i%len(medians)]}
			for item := range catalog {
				var link struct{ URL string }
				if err := c.call(ctx, "POST", "/v1/payment_links", m.basic, map[string]any{"amount": price(m.median, item),
					"currency": "USD", "single_use": false, "expires_in": 7 * 24 * 3600, "description": fmt.Sprintf("item %d", item)}, &link); err != nil {
					errs <- err
					return
				}
				u, err := url.Parse(link.URL)
				if err != nil {
					errs <- err
					return
				}
				m.links = append(m.links, u.Path+"?"+u.RawQuery)
			}
			out[i] = m
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	return out, nil
}

// answer is what the benchmark reads from a checkout answer.
type answer struct {
	status  int
	code    string // the error's code, "" for none
	payment string // the payment's id, "" when none was made
}

// pay POSTs the checkout page's JSON for a at link (a path and query),
// from a's address as a proxy in front of Paylink would forward it
// (X-Forwarded-For).
func (c *client) pay(ctx context.Context, link string, a *attempt) (answer, error) {
	body, _ := json.Marshal(map[string]any{"email": a.email, "name": "Bench Shopper",
		"payment_method": map[string]any{"type": "card", "card": a.card}})
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+link, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", hex.EncodeToString(random(16)))
	req.Header.Set("X-Forwarded-For", a.ip)
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	var out struct {
		Error   *struct{ Code string } `json:"error"`
		Payment *struct{ ID string }   `json:"payment"`
	}
	raw, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(raw, &out)
	ans := answer{status: res.StatusCode}
	if out.Error != nil {
		ans.code = out.Error.Code
	}
	if out.Payment != nil {
		ans.payment = out.Payment.ID
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusPaymentRequired {
		return ans, fmt.Errorf("POST %s: %d %.300s", link, res.StatusCode, raw)
	}
	return ans, nil
}

// outcomes lists every payment of merchant m with its risk outcome
// (allow, review, challenge, block; "" when unscreened).
func (c *client) outcomes(ctx context.Context, m merchantSetup, into map[string]string) error {
	after := ""
	for {
		var page struct {
			Data []struct {
				ID   string
				Risk *struct{ Outcome string }
			}
			HasMore bool `json:"has_more"`
		}
		path := "/v1/payments?limit=100"
		if after != "" {
			path += "&starting_after=" + after
		}
		if err := c.call(ctx, "GET", path, m.basic, nil, &page); err != nil {
			return err
		}
		for _, p := range page.Data {
			into[p.ID] = ""
			if p.Risk != nil {
				into[p.ID] = p.Risk.Outcome
			}
		}
		if !page.HasMore || len(page.Data) == 0 {
			return nil
		}
		after = page.Data[len(page.Data)-1].ID
	}
}

func newClient(base string, conns int) *client {
	return &client{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, IdleConnTimeout: time.Minute}}}
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}
