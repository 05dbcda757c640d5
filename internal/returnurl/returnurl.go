// Package returnurl signs the shopper's return to a merchant's site after
// a payment, so the merchant can trust which payment it was and how it
// ended without an API call and without any secret: the platform signs
// with Ed25519 and publishes the public keys
// (GET /.well-known/paylink-keys.json).
//
// The return URL is the merchant's success_url or cancel_url with
// {PAYMENT_ID} in success_url replaced by the payment id, and these
// parameters added to its own query (any paylink_* parameters it had are
// dropped first):
//
//	paylink_payment  the payment id
//	paylink_status   its status (succeeded, failed, canceled)
//	paylink_source   what it paid: a link id (plink_…), a form id
//	                 (pform_…), or for a stateless signed link
//	                 "<merchant id>:<merchant reference>"
//	paylink_ts       unix seconds of the signature
//	paylink_kid      the key that signed
//	paylink_sig      base64url (no padding) Ed25519 signature of
//	                 "v1.<payment>.<status>.<source>.<ts>"
//
// API.md names the payment, status, ts, kid and sig parameters and the
// signed string; paylink_source carries the string's third field so a
// return verifies from its URL alone. A source is never an id of another
// merchant's link or form (ids are random), and a signed link's carries
// its merchant, so a return made for one merchant never verifies as
// another's.
//
// Keys rotate like the other signing keys: the first key signs, every
// key is published, so a new key can be put first while returns signed
// with the old one still verify until it is removed.
package returnurl

import (
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/paylink/paylink/internal/wire"
)

// Key is one Ed25519 signing key and its id (the kid in returns).
type Key struct {
	ID      string
	Private ed25519.PrivateKey
}

// Placeholder in a success_url is replaced by the payment id.
const Placeholder = "{PAYMENT_ID}"

// Return is what a return URL tells the merchant.
type Return struct {
	Payment string // pay_…
	Status  string // succeeded, failed or canceled
	Source  string // plink_…, pform_… or "<merchant id>:<reference>"
}

// Payload is the string the signature covers.
func Payload(r Return, ts int64) string {
	return "v1." + r.Payment + "." + r.Status + "." + r.Source + "." + strconv.FormatInt(ts, 10)
}

// Signer signs return URLs with the first of its keys.
type Signer struct {
	keys []Key
	now  func() time.Time
}

var kidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// NewSigner returns a Signer over keys; the first one signs and all are
// published.
func NewSigner(keys []Key, now func() time.Time) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("returnurl: no signing key")
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if !kidPattern.MatchString(k.ID) || len(k.Private) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("returnurl: key %q needs an id of 1-32 letters, digits, - or _ and an Ed25519 key", k.ID)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("returnurl: key id %q given twice", k.ID)
		}
		seen[k.ID] = true
	}
	return &Signer{keys: keys, now: now}, nil
}

// ParseKeys reads keys written as "kid:base64(32-byte seed)", comma-
// separated, the form of PAYLINK_RETURN_SIGNING_KEYS.
func ParseKeys(spec string) ([]Key, error) {
	var out []Key
	for i, part := range strings.Split(spec, ",") {
		kid, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		seed, err := decodeSeed(b64)
		if !ok || !kidPattern.MatchString(kid) || err != nil {
			return nil, fmt.Errorf("entry %d: want kid:base64 of a 32-byte Ed25519 seed, with a kid of 1-32 letters, digits, - or _", i+1)
		}
		out = append(out, Key{ID: kid, Private: ed25519.NewKeyFromSeed(seed)})
	}
	return out, nil
}

func decodeSeed(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == ed25519.SeedSize {
			return b, nil
		}
	}
	return nil, errors.New("not base64 of 32 bytes")
}

// URL returns target (the merchant's success_url or cancel_url, as stored:
// an absolute http(s) URL) with Placeholder replaced by r.Payment and the
// signed paylink_* parameters added to its query, signed now. The rest of
// target (its other parameters, in their order and encoding, and its
// fragment) is kept.
func (s *Signer) URL(target string, r Return) (string, error) {
	target = strings.ReplaceAll(target, Placeholder, r.Payment)
	target = strings.ReplaceAll(target, url.PathEscape(Placeholder), r.Payment)
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("returnurl: %q is not an absolute http(s) URL", target)
	}
	var kept []string
	for _, part := range strings.Split(u.RawQuery, "&") {
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); part == "" || (err == nil && strings.HasPrefix(n, "paylink_")) {
			continue
		}
		kept = append(kept, part)
	}
	ts := s.now().Unix()
	k := s.keys[0]
	sig := ed25519.Sign(k.Private, []byte(Payload(r, ts)))
	for _, p := range [][2]string{{"paylink_payment", r.Payment}, {"paylink_status", r.Status},
		{"paylink_source", r.Source}, {"paylink_ts", strconv.FormatInt(ts, 10)}, {"paylink_kid", k.ID},
		{"paylink_sig", base64.RawURLEncoding.EncodeToString(sig)}} {
		kept = append(kept, p[0]+"="+url.QueryEscape(p[1]))
	}
	u.RawQuery = strings.Join(kept, "&")
	return u.String(), nil
}

// PublicKeys is the answer of GET /.well-known/paylink-keys.json: every
// key's public half, the signing key first.
func (s *Signer) PublicKeys() wire.ReturnKeys {
	out := wire.ReturnKeys{Keys: make([]wire.ReturnKey, len(s.keys))}
	for i, k := range s.keys {
		pub := k.Private.Public().(ed25519.PublicKey)
		out.Keys[i] = wire.ReturnKey{KID: k.ID, Alg: "Ed25519", PublicKey: base64.RawURLEncoding.EncodeToString(pub)}
	}
	return out
}

// params are the parameters a signed return adds, in the order it adds
// them.
var params = []string{"paylink_payment", "paylink_status", "paylink_source", "paylink_ts", "paylink_kid", "paylink_sig"}

// ErrInvalid means a return URL's paylink_* parameters are missing,
// repeated, malformed, signed by an unknown key or do not verify.
var ErrInvalid = errors.New("returnurl: invalid signed return")

// Verify checks the signed return in rawURL against keys (as published)
// and returns what it says and when it was signed. It is what a merchant's
// Go backend would run; the JS SDK's verifyReturn does the same. It
// returns ErrInvalid.
func Verify(rawURL string, keys wire.ReturnKeys) (Return, time.Time, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Return{}, time.Time{}, ErrInvalid
	}
	q := u.Query()
	for _, name := range params {
		if len(q[name]) != 1 {
			return Return{}, time.Time{}, ErrInvalid // missing, or given twice: which one would the site read?
		}
	}
	r := Return{Payment: q.Get("paylink_payment"), Status: q.Get("paylink_status"), Source: q.Get("paylink_source")}
	tsText, kid := q.Get("paylink_ts"), q.Get("paylink_kid")
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || ts <= 0 || strconv.FormatInt(ts, 10) != tsText || r.Payment == "" || r.Status == "" || r.Source == "" {
		return Return{}, time.Time{}, ErrInvalid
	}
	sig, err := base64.RawURLEncoding.DecodeString(q.Get("paylink_sig"))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Return{}, time.Time{}, ErrInvalid
	}
	for _, k := range keys.Keys {
		if subtle.ConstantTimeCompare([]byte(k.KID), []byte(kid)) != 1 || k.Alg != "Ed25519" {
			continue
		}
		pub, err := base64.RawURLEncoding.DecodeString(k.PublicKey)
		if err == nil && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, []byte(Payload(r, ts)), sig) {
			return r, time.Unix(ts, 0).UTC(), nil
		}
	}
	return Return{}, time.Time{}, ErrInvalid
}
