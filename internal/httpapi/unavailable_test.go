package httpapi_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/postgres"
)

// cutProxy forwards TCP connections to PostgreSQL until cut, when it
// stops listening and drops every connection, as a lost database server
// does; mend listens again on the same address.
type cutProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *cutProxy) mend() { p.listen(p.addr) }

// TestDatabaseUnreachable cuts the API's PostgreSQL mid-run: requests fail
// at once with a retryable 503 service_unavailable and Retry-After (JSON
// for the API, a page for the checkout), /readyz names PostgreSQL as down
// and Redis as fine, and nothing is logged as an error. Once the database
// is back, the same pool serves again, and a POST retried with its
// Idempotency-Key runs once.
func TestDatabaseUnreachable(t *testing.T) {
	t.Parallel()
	var proxy *cutProxy
	e := apitest.New(t, func(d *httpapi.Deps) {
		cfg := d.DB.Pool.Config()
		proxy = newCutProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
		host, port, _ := net.SplitHostPort(proxy.addr)
		n, _ := strconv.Atoi(port)
		cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(n)
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		d.DB = &postgres.DB{Pool: pool}
	})
	_, key := e.SignUp("ops@unreachable.test")
	linkBody := map[string]any{"amount": 1500, "currency": "USD", "single_use": false}
	link := e.CreateLink(key, linkBody)
	page := apitest.CheckoutPath(t, link)

	proxy.cut()
	post := apitest.Req{Method: "POST", Path: "/v1/payment_links", Auth: &key, Body: linkBody,
		Header: map[string]string{"Idempotency-Key": "during-the-outage"}}
	for _, r := range []apitest.Req{post, {Method: "GET", Path: "/v1/payment_links/" + link.ID, Auth: &key}} {
		res := e.Do(r)
		apitest.WantError(t, res, 503, "service_unavailable")
		if got := res.Header.Get("Retry-After"); got != "1" {
			t.Errorf("%s %s: Retry-After %q, want 1", r.Method, r.Path, got)
		}
	}
	res := e.Do(apitest.Req{Method: "GET", Path: page})
	if res.Status != 503 || res.Header.Get("Retry-After") != "1" || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("checkout page while the database is down: %d %q %q; want a 503 page with Retry-After",
			res.Status, res.Header.Get("Content-Type"), res.Header.Get("Retry-After"))
	}
	res = e.Do(apitest.Req{Method: "GET", Path: "/readyz"})
	if res.Status != 503 || !strings.Contains(string(res.Body), `"postgres":"unreachable"`) || !strings.Contains(string(res.Body), `"redis":"ok"`) {
		t.Errorf("readyz while the database is down: %d %s; want 503 naming postgres, not redis", res.Status, res.Body)
	}
	if strings.Contains(e.Logs.String(), `"level":"ERROR"`) {
		t.Errorf("an unreachable database was logged as errors:\n%s", e.Logs.String())
	}

	proxy.mend()
	first := e.Do(post)
	again := e.Do(post)
	if first.Status != 201 || again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" || string(first.Body) != string(again.Body) {
		t.Fatalf("after the outage: %d %s, then %d %s; want 201 once, then its replay", first.Status, first.Body, again.Status, again.Body)
	}
	if n := e.Count("SELECT count(*) FROM payment_links"); n != 2 {
		t.Fatalf("%d links; want 2: the one before the outage and the retried one, once", n)
	}
}
