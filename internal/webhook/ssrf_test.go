package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/testdns"
)

func TestGuardAllowed(t *testing.T) {
	tests := []struct {
		ip                   string
		strict, allowPrivate bool // allowed without and with AllowPrivate
	}{
		{"93.184.215.14", true, true},
		{"2606:4700:4700::1111", true, true},
		{"127.0.0.1", false, true},
		{"127.1.2.3", false, true},
		{"::1", false, true},
		{"10.1.2.3", false, true},
		{"172.16.0.1", false, true},
		{"172.31.255.255", false, true},
		{"192.168.1.1", false, true},
		{"100.64.0.1", false, true},   // CGNAT
		{"fd12:3456::1", false, true}, // unique local
		{"::ffff:127.0.0.1", false, true},
		{"::ffff:10.0.0.1", false, true},
		{"64:ff9b::7f00:1", false, true},   // NAT64 of 127.0.0.1
		{"2002:7f00:1::1", false, true},    // 6to4 of 127.0.0.1
		{"64:ff9b::5db8:d70e", true, true}, // NAT64 of a public address
		{"169.254.169.254", false, false},  // cloud metadata
		{"169.254.1.1", false, false},
		{"::ffff:169.254.169.254", false, false},
		{"64:ff9b::a9fe:a9fe", false, false}, // NAT64 of 169.254.169.254
		{"fd00:ec2::254", false, false},      // AWS metadata over IPv6
		{"100.100.100.200", false, false},    // Alibaba metadata
		{"192.0.0.192", false, false},        // Oracle metadata
		{"fe80::1", false, false},
		{"fe80::1%eth0", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"255.255.255.255", false, false},
		{"::127.0.0.1", false, false}, // IPv4-compatible
	}
	strict, open := &Guard{}, &Guard{AllowPrivate: true}
	for _, tc := range tests {
		ip := netip.MustParseAddr(tc.ip)
		if got := strict.Allowed(ip); got != tc.strict {
			t.Errorf("Allowed(%s) = %v, want %v", tc.ip, got, tc.strict)
		}
		if got := open.Allowed(ip); got != tc.allowPrivate {
			t.Errorf("with AllowPrivate, Allowed(%s) = %v, want %v", tc.ip, got, tc.allowPrivate)
		}
	}
}

func TestCheckURL(t *testing.T) {
	r := &testdns.Resolver{}
	r.Set("hooks.shop.test", "93.184.215.14")
	r.Set("localhost", "127.0.0.1", "::1")
	r.Set("intranet.shop.test", "93.184.215.14", "10.0.0.7") // one bad answer is enough
	r.Set("mapped.shop.test", "::ffff:127.0.0.1")
	r.Set("metadata.shop.test", "169.254.169.254")
	tests := []struct {
		url                  string
		strict, allowPrivate error
	}{
		{"https://hooks.shop.test/paylink", nil, nil},
		{"https://hooks.shop.test:8443/paylink?x=1", nil, nil},
		{"http://hooks.shop.test/paylink", ErrURLNotAllowed, nil},
		{"https://localhost/hook", ErrURLNotAllowed, nil},
		{"http://127.0.0.1:9000/hook", ErrURLNotAllowed, nil},
		{"https://[::1]/hook", ErrURLNotAllowed, nil},
		{"https://[::ffff:127.0.0.1]/hook", ErrURLNotAllowed, nil},
		{"https://intranet.shop.test/hook", ErrURLNotAllowed, nil},
		{"https://mapped.shop.test/hook", ErrURLNotAllowed, nil},
		{"https://100.64.1.1/hook", ErrURLNotAllowed, nil},
		{"https://169.254.169.254/latest/meta-data", ErrURLNotAllowed, ErrURLNotAllowed},
		{"https://metadata.shop.test/", ErrURLNotAllowed, ErrURLNotAllowed},
		{"https://[fd00:ec2::254]/", ErrURLNotAllowed, ErrURLNotAllowed},
		{"https://[fe80::1%25eth0]/", ErrURLNotAllowed, ErrURLNotAllowed},
		{"https://nowhere.shop.test/", ErrURLUnresolvable, ErrURLUnresolvable},
		{"ftp://hooks.shop.test/", ErrURLInvalid, ErrURLInvalid},
		{"hooks.shop.test/paylink", ErrURLInvalid, ErrURLInvalid},
		{"https://user:pw@hooks.shop.test/", ErrURLInvalid, ErrURLInvalid},
		{"https://hooks.shop.test/#frag", ErrURLInvalid, ErrURLInvalid},
		{"", ErrURLInvalid, ErrURLInvalid},
		{" https://hooks.shop.test/", ErrURLInvalid, ErrURLInvalid},
	}
	for _, tc := range tests {
		for _, g := range []struct {
			guard *Guard
			want  error
		}{{&Guard{Resolver: r}, tc.strict}, {&Guard{AllowPrivate: true, Resolver: r}, tc.allowPrivate}} {
			_, err := g.guard.CheckURL(context.Background(), tc.url)
			if (g.want == nil && err != nil) || (g.want != nil && !errors.Is(err, g.want)) {
				t.Errorf("AllowPrivate=%v: CheckURL(%q) = %v, want %v", g.guard.AllowPrivate, tc.url, err, g.want)
			}
		}
	}
}

// TestCheckURLSaysWhatThisGuardRefuses: with AllowPrivate (paylink dev) a
// refused address is not explained by rules that do not apply there
// (https only, no loopback), which would send a developer whose
// http://127.0.0.1 receiver works looking for the wrong problem.
func TestCheckURLSaysWhatThisGuardRefuses(t *testing.T) {
	r := &testdns.Resolver{}
	r.Set("metadata.shop.test", "169.254.169.254")
	for _, raw := range []string{"http://169.254.169.254/latest", "http://metadata.shop.test/"} {
		_, err := (&Guard{AllowPrivate: true, Resolver: r}).CheckURL(context.Background(), raw)
		var e *apperr.Error
		if !errors.As(err, &e) || e.Code != "url_not_allowed" || strings.Contains(e.Message, "https://") ||
			!strings.Contains(e.Message, "link-local, cloud metadata") {
			t.Errorf("AllowPrivate: CheckURL(%q) = %v; want url_not_allowed naming only what stays refused", raw, err)
		}
		if _, err := (&Guard{Resolver: r}).CheckURL(context.Background(), raw); !errors.As(err, &e) || !strings.Contains(e.Message, "https://") {
			t.Errorf("strict: CheckURL(%q) = %v; want the message asking for https://", raw, err)
		}
	}
}

// TestDialerRefusesPrivateAddressAtConnect: a host name that resolved to
// a public address at registration now resolves to loopback (DNS
// rebinding). The connection is refused before it is made: the server
// never sees one.
func TestDialerRefusesPrivateAddressAtConnect(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	r := &testdns.Resolver{}
	r.Set("rebind.shop.test", "93.184.215.14")
	g := &Guard{Resolver: r}
	if _, err := g.CheckURL(context.Background(), "https://rebind.shop.test:"+port+"/hook"); err != nil {
		t.Fatalf("registration: %v", err)
	}
	client := g.Client(5 * time.Second)
	for _, answer := range [][]string{{"127.0.0.1"}, {"::ffff:127.0.0.1"}, {"::1", "127.0.0.1"}} {
		r.Set("rebind.shop.test", answer...)
		_, err := client.Post("http://rebind.shop.test:"+port+"/hook", "application/json", nil)
		if !errors.Is(err, errAddressNotAllowed) {
			t.Errorf("resolving to %v: err = %v, want the dialer's refusal", answer, err)
		}
	}
	// An IP literal is checked the same way.
	if _, err := client.Get(srv.URL); !errors.Is(err, errAddressNotAllowed) {
		t.Errorf("GET %s: err = %v, want the dialer's refusal", srv.URL, err)
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the loopback server saw %d connections; want none", n)
	}
	// With AllowPrivate the same request goes through, so the refusal
	// above was the guard's doing.
	open := (&Guard{AllowPrivate: true, Resolver: r}).Client(5 * time.Second)
	res, err := open.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if conns.Load() != 1 {
		t.Fatalf("with AllowPrivate the server saw %d connections, want 1", conns.Load())
	}
}
