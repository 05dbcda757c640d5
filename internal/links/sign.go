package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
)

// ErrBadSignature means a checkout URL was not signed by this server, or
// one of its parts (id, exp, kid, sig) was edited. It is the same answer
// whether or not the link exists.
var ErrBadSignature = &apperr.Error{Kind: apperr.Forbidden, Code: "link_signature_invalid",
	Message: "This payment link is not valid. Ask the merchant for a new one."}

// ErrURLExpired means a correctly signed URL is past its exp.
var ErrURLExpired = &apperr.Error{Kind: apperr.Gone, Code: "link_expired",
	Message: "This payment link has expired. Ask the merchant for a new one."}

// SigningKey is one server-held key for checkout URL signatures.
type SigningKey struct {
	ID     string // the kid in URLs
	Secret []byte // at least 32 bytes
}

// Signer signs and verifies checkout URLs: sig = base64url(HMAC-SHA256(
// key[kid], "v1.<link id>.<exp>")). The first key signs; every key
// verifies, so a new key can be put first while URLs signed with the old
// one keep working until it is removed.
type Signer struct {
	current SigningKey
	keys    map[string][]byte
}

// NewSigner returns a Signer over keys; the first one signs.
func NewSigner(keys []SigningKey) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("links: no signing key")
	}
	s := &Signer{current: keys[0], keys: map[string][]byte{}}
	for _, k := range keys {
		if k.ID == "" || len(k.Secret) < 32 {
			return nil, fmt.Errorf("links: signing key %q must have an id and at least 32 bytes", k.ID)
		}
		if _, dup := s.keys[k.ID]; dup {
			return nil, fmt.Errorf("links: signing key id %q given twice", k.ID)
		}
		s.keys[k.ID] = k.Secret
	}
	return s, nil
}

func mac(secret []byte, linkID, exp string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("v1." + linkID + "." + exp))
	return h.Sum(nil)
}

// Query returns the exp, kid and sig parameters of the checkout URL of
// linkID expiring at exp, signed with the current key.
func (s *Signer) Query(linkID string, exp time.Time) url.Values {
	e := strconv.FormatInt(exp.Unix(), 10)
	return url.Values{
		"exp": {e},
		"kid": {s.current.ID},
		"sig": {base64.RawURLEncoding.EncodeToString(mac(s.current.Secret, linkID, e))},
	}
}

// Verify checks a checkout URL's parts without touching the database: the
// id's form, exp as canonical unix seconds, a known kid and the signature,
// compared in constant time. It returns the signed expiry, or
// ErrBadSignature. Whether exp has passed is for the caller to decide,
// only after the signature is known to be good.
func (s *Signer) Verify(linkID, exp, kid, sig string) (time.Time, error) {
	secret, ok := s.keys[kid]
	if !ok || !id.Valid("plink", linkID) {
		return time.Time{}, ErrBadSignature
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != exp {
		return time.Time{}, ErrBadSignature
	}
	given, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(given, mac(secret, linkID, exp)) {
		return time.Time{}, ErrBadSignature
	}
	return time.Unix(n, 0), nil
}
