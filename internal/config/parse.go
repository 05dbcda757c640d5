package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/seal"
)

// parser collects errors while reading variables, applying Vars' defaults.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, msg string) {
	p.errs = append(p.errs, fmt.Errorf("config: %s: %s", name, msg))
}

func (p *parser) str(name string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	for _, v := range vars {
		if v.Name == name {
			return v.Default
		}
	}
	panic("config: variable " + name + " is not in Vars")
}

func (p *parser) required(name string) string {
	v := p.str(name)
	if v == "" {
		p.fail(name, "is required")
	}
	return v
}

func (p *parser) intRange(name string, lo, hi int) int {
	s := p.str(name)
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		p.fail(name, fmt.Sprintf("%q is not a whole number from %d to %d", s, lo, hi))
	}
	return n
}

// poolSize reads a connection count from 1 to 1000, or "auto": 4 per CPU
// the process may use.
func (p *parser) poolSize(name string) int {
	if strings.EqualFold(p.str(name), "auto") {
		return 4 * runtime.GOMAXPROCS(0)
	}
	return p.intRange(name, 1, 1000)
}

func (p *parser) oneOf(name string, allowed ...string) string {
	s := strings.ToLower(p.str(name))
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.fail(name, fmt.Sprintf("%q is not one of %s", s, strings.Join(allowed, ", ")))
	return s
}

func (p *parser) duration(name string, min time.Duration) time.Duration {
	s := p.str(name)
	d, err := time.ParseDuration(s)
	if err != nil || d < min {
		p.fail(name, fmt.Sprintf("%q is not a duration of at least %s (e.g. 30s, 5m, 48h)", s, min))
	}
	return d
}

func (p *parser) boolean(name string) bool {
	s := p.str(name)
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.fail(name, fmt.Sprintf("%q is not true or false", s))
	}
	return b
}

// schedule reads comma-separated durations, 1 to 20 of them, each from 1ms
// to 24h.
func (p *parser) schedule(name string) []time.Duration {
	s := p.str(name)
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < time.Millisecond || d > 24*time.Hour {
			p.fail(name, fmt.Sprintf("%q is not a list of durations from 1ms to 24h like 5s,5m,30m", s))
			return nil
		}
		out = append(out, d)
	}
	if len(out) > 20 {
		p.fail(name, "at most 20 retries")
	}
	return out
}

func (p *parser) address(name string) *mail.Address {
	s := p.str(name)
	a, err := mail.ParseAddress(s)
	if err != nil {
		p.fail(name, fmt.Sprintf("%q is not an e-mail address like Paylink <no-reply@example.com>", s))
		return &mail.Address{}
	}
	return a
}

func (p *parser) rate(name string) limiter.Rate {
	s := p.str(name)
	r, err := limiter.NewRateFromFormatted(s)
	if err != nil || r.Limit <= 0 {
		p.fail(name, fmt.Sprintf("%q is not a rate like 100-S or 60-M", s))
	}
	return r
}

func (p *parser) cidrs(name string) []string {
	var out []string
	for _, part := range strings.Split(p.str(name), ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if _, err := netip.ParsePrefix(part); err != nil {
			if _, err := netip.ParseAddr(part); err != nil {
				p.fail(name, fmt.Sprintf("%q is not an IP address or CIDR", part))
				continue
			}
		}
		out = append(out, part)
	}
	return out
}

// signingKeys reads `kid:base64,…`, or derives one key per encryption key
// version when unset, so links keep verifying across encryption-key
// rotations for as long as the old version stays in the keyring.
func (p *parser) signingKeys(name string, ring *seal.Keyring) []links.SigningKey {
	spec := p.str(name)
	var out []links.SigningKey
	if spec == "" {
		for _, v := range ring.Versions() {
			k, _ := ring.Derive(v, "link-signing")
			out = append(out, links.SigningKey{ID: "e" + strconv.Itoa(int(v)), Secret: k})
		}
		return out
	}
	for i, part := range strings.Split(spec, ",") {
		kid, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		key, err := decodeSecret(b64)
		if !ok || !validKid(kid) || err != nil {
			p.fail(name, fmt.Sprintf("entry %d: want kid:base64 with a kid of 1-32 letters, digits, - or _ and at least 32 bytes of key", i+1))
			continue
		}
		out = append(out, links.SigningKey{ID: kid, Secret: key})
	}
	if _, err := links.NewSigner(out); err != nil && len(p.errs) == 0 {
		p.fail(name, err.Error())
	}
	return out
}

// returnKeys reads `kid:base64(seed),…`, or derives one Ed25519 key per
// encryption key version when unset (kid `e<version>`): every replica
// derives the same keys, and returns signed before an encryption-key
// rotation keep verifying while the old version stays in the keyring.
func (p *parser) returnKeys(name string, ring *seal.Keyring) []returnurl.Key {
	spec := p.str(name)
	if spec == "" {
		var out []returnurl.Key
		for _, v := range ring.Versions() {
			seed, _ := ring.Derive(v, "return-signing")
			out = append(out, returnurl.Key{ID: "e" + strconv.Itoa(int(v)), Private: ed25519.NewKeyFromSeed(seed)})
		}
		return out
	}
	keys, err := returnurl.ParseKeys(spec)
	if err == nil {
		_, err = returnurl.NewSigner(keys, time.Now)
	}
	if err != nil {
		p.fail(name, err.Error())
	}
	return keys
}

func validKid(kid string) bool {
	if len(kid) < 1 || len(kid) > 32 {
		return false
	}
	for _, r := range kid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// secret reads a base64 secret of at least 32 bytes, or derives one from
// the current encryption key when unset.
func (p *parser) secret(name string, ring *seal.Keyring) []byte {
	s := p.str(name)
	if s == "" {
		k, _ := ring.Derive(ring.Current(), name)
		return k
	}
	k, err := decodeSecret(s)
	if err != nil {
		p.fail(name, "want base64 of at least 32 bytes")
	}
	return k
}

func decodeSecret(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= 32 {
			return b, nil
		}
	}
	return nil, errors.New("not base64 of at least 32 bytes")
}

func (p *parser) baseURL(name string) *url.URL {
	s := p.str(name)
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		p.fail(name, fmt.Sprintf("%q is not an http(s) URL without query", s))
		return &url.URL{}
	}
	return u
}

// webAuthn reads the passkey relying party: its id defaults to the base
// URL's host and its origins to the base URL's origin. Every origin must
// be an http(s) origin whose host is the id or a subdomain of it.
func (p *parser) webAuthn(base *url.URL) (string, []string) {
	rpID := strings.ToLower(p.str("PAYLINK_WEBAUTHN_RP_ID"))
	if rpID == "" {
		rpID = base.Hostname()
	}
	if _, err := netip.ParseAddr(rpID); err == nil {
		p.fail("PAYLINK_WEBAUTHN_RP_ID", fmt.Sprintf("%q is an IP address, and passkeys need a domain name: reach Paylink by name "+
			"(e.g. PAYLINK_BASE_URL=http://localhost:8080) or set PAYLINK_WEBAUTHN_RP_ID", rpID))
	}
	var origins []string
	for _, part := range strings.Split(p.str("PAYLINK_WEBAUTHN_ORIGINS"), ",") {
		if part = strings.TrimRight(strings.TrimSpace(part), "/"); part != "" {
			origins = append(origins, part)
		}
	}
	if len(origins) == 0 && base.Host != "" {
		origins = []string{base.Scheme + "://" + base.Host}
	}
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			p.fail("PAYLINK_WEBAUTHN_ORIGINS", fmt.Sprintf("%q is not an origin like https://pay.example.com", o))
			continue
		}
		if h := u.Hostname(); h != rpID && !strings.HasSuffix(h, "."+rpID) {
			p.fail("PAYLINK_WEBAUTHN_ORIGINS", fmt.Sprintf("%q is not on the relying party %q or a subdomain of it", o, rpID))
		}
	}
	return rpID, origins
}

// databaseURL reads a PostgreSQL URL (or keyword/value string), checked
// as pgx will read it, so a malformed one is reported with every other
// problem. One naming several hosts must say
// target_session_attrs=read-write (or primary): else pgx may settle on a
// standby, where every write fails.
func (p *parser) databaseURL(name string) string {
	s := p.required(name)
	if s == "" {
		return s
	}
	if _, err := pgconn.ParseConfig(s); err != nil {
		p.fail(name, err.Error()) // pgconn hides the password
		return s
	}
	u, err := url.Parse(s)
	if err != nil || !strings.Contains(u.Host, ",") {
		return s // a keyword/value string or one host
	}
	switch u.Query().Get("target_session_attrs") {
	case "read-write", "primary":
	default:
		p.fail(name, "names several hosts without target_session_attrs=read-write: Paylink writes, so it must connect to the primary")
	}
	return s
}
