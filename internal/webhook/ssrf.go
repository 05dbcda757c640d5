package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/paylink/paylink/internal/apperr"
)

// Errors about endpoint URLs.
var (
	ErrURLInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "url_invalid", Param: "url",
		Message: "url must be an absolute https:// URL of at most 2048 characters, without user name, password or fragment."}
	ErrURLNotAllowed = &apperr.Error{Kind: apperr.Invalid, Code: "url_not_allowed", Param: "url",
		Message: "url must use https:// and must not point to a loopback, private, shared (CGNAT), link-local or cloud metadata address."}
	ErrURLUnresolvable = &apperr.Error{Kind: apperr.Invalid, Code: "url_unresolvable", Param: "url",
		Message: "The host of url could not be resolved; check the name, or retry if its DNS was just set up."}
)

// errAddressNotAllowed is what the dialer returns for a refused address.
var errAddressNotAllowed = errors.New("address not allowed")

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard decides which addresses webhooks may reach. Everything that is not
// a public unicast address is refused; AllowPrivate (tests, local
// development) opens loopback, private and shared (CGNAT) ranges and
// http://, but never link-local, cloud metadata, unspecified, multicast or
// reserved addresses.
type Guard struct {
	AllowPrivate bool
	Resolver     Resolver
}

// prefixes parses CIDRs at start; a typo is a programming error.
func prefixes(cidrs ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		out[i] = netip.MustParsePrefix(c)
	}
	return out
}

// neverAllowed are refused even with AllowPrivate. Metadata services live
// at 169.254.169.254 (link-local), fd00:ec2::254 (AWS, inside the private
// fc00::/7), 100.100.100.200 (Alibaba, inside CGNAT) and 192.0.0.192
// (Oracle, inside 192.0.0.0/24).
var neverAllowed = prefixes(
	"0.0.0.0/8",          // "this network", unspecified
	"169.254.0.0/16",     // link-local, cloud metadata
	"192.0.0.0/24",       // IETF protocol assignments (Oracle metadata)
	"192.0.2.0/24",       // TEST-NET-1
	"198.18.0.0/15",      // benchmarking
	"198.51.100.0/24",    // TEST-NET-2
	"203.0.113.0/24",     // TEST-NET-3
	"224.0.0.0/4",        // multicast
	"240.0.0.0/4",        // reserved, broadcast
	"100.100.100.200/32", // Alibaba Cloud metadata
	"::/128",             // unspecified
	"::/96",              // IPv4-compatible (deprecated)
	"64:ff9b:1::/48",     // local-use NAT64
	"100::/64",           // discard
	"2001:db8::/32",      // documentation
	"fe80::/10",          // link-local
	"fec0::/10",          // site-local (deprecated)
	"ff00::/8",           // multicast
	"fd00:ec2::254/128",  // AWS metadata over IPv6
)

// privateRanges are opened by AllowPrivate.
var privateRanges = prefixes(
	"127.0.0.0/8",    // loopback
	"10.0.0.0/8",     // private
	"172.16.0.0/12",  // private
	"192.168.0.0/16", // private
	"100.64.0.0/10",  // shared address space (CGNAT)
	"::1/128",        // loopback
	"fc00::/7",       // unique local
)

// nat64 and sixToFour embed an IPv4 address, which is judged instead.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Allowed reports whether a webhook may connect to ip.
func (g *Guard) Allowed(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if !ip.IsValid() {
		return false
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return g.Allowed(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return g.Allowed(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if ip.IsLoopback() { // before ::/96, which holds ::1
		return g.AllowPrivate
	}
	for _, p := range neverAllowed {
		if p.Contains(ip) {
			return false
		}
	}
	for _, p := range privateRanges {
		if p.Contains(ip) {
			return g.AllowPrivate
		}
	}
	return ip.IsGlobalUnicast()
}

// CheckURL validates an endpoint URL at registration: an absolute https://
// URL (http:// too with AllowPrivate) whose host resolves only to allowed
// addresses. It returns ErrURLInvalid, ErrURLNotAllowed or
// ErrURLUnresolvable. The dialer checks again at every connection, since
// DNS may answer differently later.
func (g *Guard) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	if len(raw) > 2048 || strings.TrimSpace(raw) != raw {
		return nil, ErrURLInvalid
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Host == "" || u.User != nil || u.Fragment != "" || strings.HasSuffix(u.Host, ":") {
		return nil, ErrURLInvalid
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !g.AllowPrivate {
			return nil, ErrURLNotAllowed.WithMessage("url must use https://.")
		}
	default:
		return nil, ErrURLInvalid
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !g.Allowed(ip) {
			return nil, g.notAllowed()
		}
		return u, nil
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := g.Resolver.LookupNetIP(lctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil, ErrURLUnresolvable.Wrap(err)
	}
	for _, ip := range ips {
		if !g.Allowed(ip) {
			return nil, g.notAllowed()
		}
	}
	return u, nil
}

// notAllowed is ErrURLNotAllowed saying what this guard refuses: with
// AllowPrivate, http:// and loopback and private addresses are fine, so
// the message names only what stays refused.
func (g *Guard) notAllowed() error {
	if g.AllowPrivate {
		return ErrURLNotAllowed.WithMessage("url must not point to a link-local, cloud metadata or other reserved address " +
			"(this server allows http://, loopback and private addresses for local receivers).")
	}
	return ErrURLNotAllowed
}

// control runs after the socket is created and before it connects, with
// the address actually dialed, so no DNS answer can slip past it.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !g.Allowed(ap.Addr()) {
		return fmt.Errorf("%s: %w", address, errAddressNotAllowed)
	}
	return nil
}

// dial resolves host with the guard's resolver and connects to the first
// address that answers; every connection passes control.
func (g *Guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 10 * time.Second, Control: g.control}
	if ip, err := netip.ParseAddr(host); err == nil {
		return d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
	}
	ips, err := g.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	var first error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = fmt.Errorf("%s has no address", host)
	}
	return nil, first
}

// Client returns an HTTP client for deliveries: connections only to
// allowed addresses, no proxy from the environment, redirects never
// followed, and the whole exchange bounded by timeout.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           g.dial,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   128, // many deliveries go to one host at once: keep their connections
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
