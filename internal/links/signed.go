package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/money"
)

// A stateless signed link is a checkout URL a merchant's backend makes
// offline, with no API call and no row in payment_links:
//
//	/pay/s?key=<API key id>&amount=&currency=&ref=&exp=[&description=][&success_url=][&cancel_url=]&sig=
//
// sig = base64url-nopad(HMAC-SHA256(API key secret, canonical)), where
// canonical is SignedPrefix followed by every parameter but sig,
// sorted by name, as name=value with RFC 3986 percent-encoding (only
// A-Z a-z 0-9 - _ . ~ kept), joined by "&" (sdk/js signLink makes the same
// string; testdata/signed_link_vectors.json keeps the two in step). ref is
// the merchant's reference: one successful payment per merchant and
// reference.

// SignedPrefix is the first line of a signed link's canonical string.
const SignedPrefix = "paylink-signed-link-v1\n"

// Signed link limits.
const (
	maxSignedQuery = 6144
	// maxSignedExpiry is how far in the future a signed link's exp may be.
	maxSignedExpiry = MaxExpiry
)

var (
	// ErrSignedInvalid is a correctly signed link whose values are not
	// acceptable (amount, currency, reference, description, URLs, an exp
	// too far away): the merchant signed something Paylink cannot take.
	ErrSignedInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "signed_link_invalid",
		Message: "This payment link was signed with values Paylink cannot accept. Ask the merchant for a new one."}

	referencePattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

	signedParams   = []string{"amount", "cancel_url", "currency", "description", "exp", "key", "ref", "sig", "success_url"}
	requiredParams = []string{"amount", "currency", "exp", "key", "ref", "sig"}
)

// Signed is a parsed stateless signed link. Its fields are set by
// ParseSigned (the raw parameters), then checked by Verify and Validate.
type Signed struct {
	KeyID     string
	Reference string
	params    map[string]string
	sig       []byte

	// Set by Validate.
	Amount      money.Amount
	ExpiresAt   time.Time
	Description string
	SuccessURL  string
	CancelURL   string
}

// ParseSigned reads the query of a signed link: each known parameter at
// most once, the required ones present, nothing else. It returns
// ErrBadSignature otherwise, as for an edited URL; the values are only
// judged after the signature (Validate).
func ParseSigned(rawQuery string) (*Signed, error) {
	if len(rawQuery) > maxSignedQuery {
		return nil, ErrBadSignature
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, ErrBadSignature
	}
	sl := &Signed{params: map[string]string{}}
	for name, vs := range q {
		if !slices.Contains(signedParams, name) || len(vs) != 1 {
			return nil, ErrBadSignature
		}
		sl.params[name] = vs[0]
	}
	for _, name := range requiredParams {
		if sl.params[name] == "" {
			return nil, ErrBadSignature
		}
	}
	sl.KeyID, sl.Reference = sl.params["key"], sl.params["ref"]
	if !id.Valid("key", sl.KeyID) {
		return nil, ErrBadSignature
	}
	if sl.sig, err = base64.RawURLEncoding.Strict().DecodeString(sl.params["sig"]); err != nil || len(sl.sig) != sha256.Size {
		return nil, ErrBadSignature
	}
	return sl, nil
}

// CanonicalSigned returns the canonical string of a signed link's
// parameters (every one but sig).
func CanonicalSigned(params map[string]string) string {
	names := make([]string, 0, len(params))
	for n := range params {
		if n != "sig" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(SignedPrefix)
	for i, n := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(n) + "=" + percentEncode(params[n]))
	}
	return b.String()
}

// SignedURL returns the signed link of params (every parameter but sig)
// under an API key secret, on the server at base; sdk/js signLink is what
// merchants use, this is for `paylink dev` and tests.
func SignedURL(base *url.URL, secret string, params map[string]string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(CanonicalSigned(params)))
	v := url.Values{}
	for n, s := range params {
		v.Set(n, s)
	}
	v.Set("sig", base64.RawURLEncoding.EncodeToString(h.Sum(nil)))
	return base.String() + "/pay/s?" + v.Encode()
}

// percentEncode is RFC 3986 percent-encoding: unreserved characters stay,
// every other byte of the UTF-8 text becomes %XX (upper-case hex).
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// Verify checks the link's signature against the secret of its API key,
// in constant time. It returns ErrBadSignature.
func (sl *Signed) Verify(secret string) error {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(CanonicalSigned(sl.params)))
	if !hmac.Equal(h.Sum(nil), sl.sig) {
		return ErrBadSignature
	}
	return nil
}

// Validate judges a verified link's values at now and sets them:
// ErrSignedInvalid (naming the parameter) for an exp that is not unix
// seconds or is more than maxSignedExpiry away, an amount that is not
// 1..99999999 minor units, a currency not in accepted, a reference not of
// [A-Za-z0-9._:-]{1,64}, a description over 500 characters, or a URL that
// is not http(s); then ErrExpired past exp (every value is set by then,
// for a receipt).
func (sl *Signed) Validate(accepted money.Set, now time.Time) error {
	exp := sl.params["exp"]
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != exp {
		return ErrSignedInvalid.WithParam("exp")
	}
	sl.ExpiresAt = time.Unix(n, 0).UTC()
	if sl.ExpiresAt.Sub(now) > maxSignedExpiry {
		return ErrSignedInvalid.WithParam("exp")
	}
	minor, err := money.ParseMinor(sl.params["amount"])
	if err != nil {
		return ErrSignedInvalid.WithParam("amount")
	}
	cur, err := accepted.Parse(sl.params["currency"])
	if err != nil {
		return ErrSignedInvalid.WithParam("currency")
	}
	sl.Amount = money.Amount{Minor: minor, Currency: cur}
	if !referencePattern.MatchString(sl.Reference) {
		return ErrSignedInvalid.WithParam("ref")
	}
	sl.Description = strings.TrimSpace(sl.params["description"])
	if !utf8.ValidString(sl.Description) || utf8.RuneCountInString(sl.Description) > maxDescription {
		return ErrSignedInvalid.WithParam("description")
	}
	if sl.SuccessURL, err = CheckURL(sl.params["success_url"], "success_url"); err != nil {
		return ErrSignedInvalid.WithParam("success_url")
	}
	if sl.CancelURL, err = CheckURL(sl.params["cancel_url"], "cancel_url"); err != nil {
		return ErrSignedInvalid.WithParam("cancel_url")
	}
	if !now.Before(sl.ExpiresAt) {
		return ErrExpired
	}
	return nil
}

// Query returns the link's parameters, sig included, as a URL query in a
// stable order, to build the paths of its receipt and challenge pages.
func (sl *Signed) Query() string {
	v := url.Values{}
	for n, s := range sl.params {
		v.Set(n, s)
	}
	return v.Encode()
}
