package processor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paylink/paylink/internal/money"
)

// ErrUnknownAuthorization means a reference the simulator never issued was
// given to Authenticate, Capture, Void or Refund.
var ErrUnknownAuthorization = errors.New("processor: unknown authorization")

// Test card numbers (API.md "Test cards").
const (
	CardVisa              = "4242424242424242"
	CardMastercard        = "5555555555554444"
	CardAmex              = "378282246310005"
	CardDeclined          = "4000000000000002"
	CardInsufficientFunds = "4000000000009995"
	CardExpired           = "4000000000000069"
	CardIncorrectCVC      = "4000000000000127"
	CardProcessingError   = "4000000000000119"
	CardChallenge         = "4000000000003220"
)

// testCards maps the numbers with a fixed outcome to their decline code, or
// to "" for the challenge card. Any other valid number is authorized.
var testCards = map[string]string{
	CardDeclined:          CodeCardDeclined,
	CardInsufficientFunds: CodeInsufficientFunds,
	CardExpired:           CodeExpiredCard,
	CardIncorrectCVC:      CodeIncorrectCVC,
	CardProcessingError:   CodeProcessingError,
	CardChallenge:         "",
}

// Simulator is the built-in test processor. Every reference is derived
// from the call's idempotency key with a keyed MAC, so the same key gives
// the same answer on every API replica and after a restart, and a
// reference it did not issue is refused. Like a real processor it also
// remembers what request each key was first used for (a keyed digest, in
// a KeyMemory) and refuses the key with another one (ErrKeyReused).
// Outcomes depend only on the card (API.md's table); any other valid card
// is authorized.
type Simulator struct {
	secret []byte
	keys   KeyMemory
	now    func() time.Time
}

// NewSimulator returns a Simulator keyed with secret (at least 32 bytes),
// which keys card fingerprints, references and request digests,
// remembering keys in keys. now gives the time against which card expiry
// is checked.
func NewSimulator(secret []byte, keys KeyMemory, now func() time.Time) *Simulator {
	return &Simulator{secret: secret, keys: keys, now: now}
}

var _ Processor = (*Simulator)(nil)

// Authorize implements Processor.
func (s *Simulator) Authorize(ctx context.Context, key string, amount money.Amount, card Card) (Authorization, error) {
	if err := s.ready(ctx, key); err != nil {
		return Authorization{}, err
	}
	if amount.Minor <= 0 {
		return Authorization{}, fmt.Errorf("processor: amount must be positive, got %d", amount.Minor)
	}
	card.Number = Normalize(card.Number)
	if err := s.remember(ctx, "auth", key, strconv.FormatInt(amount.Minor, 10), string(amount.Currency), card.Number,
		strconv.Itoa(card.ExpMonth), strconv.Itoa(card.ExpYear), card.CVC, strconv.FormatBool(card.Challenge)); err != nil {
		return Authorization{}, err
	}
	a := Authorization{ID: s.ref("auth", key)}
	brand, code := Validate(card, amount.Currency, s.now())
	if code != CodeInvalidNumber {
		a.Card = Details{Brand: brand, Last4: Last4(card.Number), ExpMonth: card.ExpMonth, ExpYear: card.ExpYear,
			Fingerprint: Fingerprint(s.secret, card.Number)}
	}
	if code == "" {
		code = testCards[card.Number]
		if _, challenge := testCards[card.Number]; challenge && code == "" {
			a.Status = RequiresAction
			return a, nil
		}
		if code != "" && card.Challenge { // the decline waits for the challenge
			a.ID, a.Status = s.refDeferring("auth", key, code), RequiresAction
			return a, nil
		}
	}
	if code != "" {
		a.Status, a.DeclineCode = Declined, code
		return a, nil
	}
	if card.Challenge {
		a.Status = RequiresAction
		return a, nil
	}
	a.Status = Authorized
	return a, nil
}

// Authenticate implements Processor.
func (s *Simulator) Authenticate(ctx context.Context, key, authID string, approved bool) (Authorization, error) {
	if err := s.ready(ctx, key); err != nil {
		return Authorization{}, err
	}
	ok, deferred := s.issuedDeferring("auth", authID)
	if !ok {
		return Authorization{}, ErrUnknownAuthorization
	}
	if err := s.remember(ctx, "authn", key, authID, strconv.FormatBool(approved)); err != nil {
		return Authorization{}, err
	}
	switch {
	case !approved:
		return Authorization{ID: authID, Status: Declined, DeclineCode: CodeAuthenticationFailed}, nil
	case deferred != "":
		return Authorization{ID: authID, Status: Declined, DeclineCode: deferred}, nil
	}
	return Authorization{ID: authID, Status: Authorized}, nil
}

// Capture implements Processor.
func (s *Simulator) Capture(ctx context.Context, key, authID string, amount money.Amount) (string, error) {
	return s.follow(ctx, "cap", key, authID, amount)
}

// Void implements Processor.
func (s *Simulator) Void(ctx context.Context, key, authID string) error {
	_, err := s.follow(ctx, "void", key, authID, money.Amount{Minor: 1})
	return err
}

// Refund implements Processor.
func (s *Simulator) Refund(ctx context.Context, key, authID string, amount money.Amount) (string, error) {
	return s.follow(ctx, "rfd", key, authID, amount)
}

// Payout implements Processor. The card must be one a payment could be
// authorized on (expiry and number checked; a payout asks for no CVC), and
// a test card that declines a payment fails the payout with the same code,
// so a withdrawal to it comes back. The challenge card is paid: a payout
// needs no issuer authentication. Like every call, the key is remembered
// with its request: reusing it for another amount, currency or card is
// ErrKeyReused.
func (s *Simulator) Payout(ctx context.Context, key string, amount money.Amount, card Card) (Payout, error) {
	if err := s.ready(ctx, key); err != nil {
		return Payout{}, err
	}
	if amount.Minor <= 0 {
		return Payout{}, fmt.Errorf("processor: amount must be positive, got %d", amount.Minor)
	}
	card.Number = Normalize(card.Number)
	if err := s.remember(ctx, "po", key, strconv.FormatInt(amount.Minor, 10), string(amount.Currency), card.Number,
		strconv.Itoa(card.ExpMonth), strconv.Itoa(card.ExpYear)); err != nil {
		return Payout{}, err
	}
	p := Payout{ID: s.ref("po", key), Status: PayoutPaid}
	card.CVC = "000"
	if BrandOf(card.Number) == Amex {
		card.CVC = "0000"
	}
	_, code := Validate(card, amount.Currency, s.now())
	if code == "" {
		code = testCards[card.Number]
	}
	if code != "" {
		p.Status, p.FailureCode = PayoutFailed, code
	}
	return p, nil
}

// follow is a call on an existing authorization: it checks the reference
// and answers a reference derived from key.
func (s *Simulator) follow(ctx context.Context, kind, key, authID string, amount money.Amount) (string, error) {
	if err := s.ready(ctx, key); err != nil {
		return "", err
	}
	if !s.issued("auth", authID) {
		return "", ErrUnknownAuthorization
	}
	if amount.Minor <= 0 {
		return "", fmt.Errorf("processor: amount must be positive, got %d", amount.Minor)
	}
	if err := s.remember(ctx, kind, key, authID, strconv.FormatInt(amount.Minor, 10), string(amount.Currency)); err != nil {
		return "", err
	}
	return s.ref(kind, key), nil
}

// remember records the request (fields) first made with key for a call of
// kind, and refuses the key with any other: ErrKeyReused. A memory that
// cannot be read (Paylink's Redis is down) lets the call through unchecked,
// as a lost memory does: the simulator stands for a processor outside
// Paylink, whose answers do not wait on Paylink's Redis, and every answer
// is derived from its key anyway, so a retry still gets the same one.
func (s *Simulator) remember(ctx context.Context, kind, key string, fields ...string) error {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte("request\x00" + kind))
	for _, f := range fields {
		fmt.Fprintf(h, "\x00%d:%s", len(f), f)
	}
	digest := h.Sum(nil)
	held, err := s.keys.Remember(ctx, kind+":"+b32.EncodeToString(s.mac("key\x00" + kind + "\x00" + key)[:20]), digest)
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	case err != nil:
		return nil
	}
	if !hmac.Equal(held, digest) {
		return ErrKeyReused
	}
	return nil
}

func (s *Simulator) ready(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if key == "" {
		return errors.New("processor: an idempotency key is required")
	}
	return nil
}

// b32 is lower-case base32 without padding, for references.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// FingerprintLen is the length of every Fingerprint: 16 bytes of HMAC in
// unpadded base32.
const FingerprintLen = 26

// ref returns kind_ + a 10-byte value derived from key + a 6-byte MAC of
// that value, so issued can later recognise it without any state.
func (s *Simulator) ref(kind, key string) string { return s.refDeferring(kind, key, "") }

// refDeferring is ref whose tag also binds deferred, the decline code of
// a test card that waits for its challenge ("" for none), so that
// Authenticate can tell it from the reference alone.
func (s *Simulator) refDeferring(kind, key, deferred string) string {
	body := s.mac("ref\x00" + kind + "\x00" + key)[:10]
	return kind + "_" + strings.ToLower(b32.EncodeToString(append(body, s.tag(kind, body, deferred)...)))
}

func (s *Simulator) tag(kind string, body []byte, deferred string) []byte {
	msg := "tag\x00" + kind + "\x00" + string(body)
	if deferred != "" {
		msg += "\x00" + deferred
	}
	return s.mac(msg)[:6]
}

// deferrable are the decline codes a challenge defers, "" first (none).
var deferrable = []string{"", CodeCardDeclined, CodeInsufficientFunds, CodeExpiredCard, CodeIncorrectCVC, CodeProcessingError}

// issued reports whether ref was made by ref(kind, …) with this secret.
func (s *Simulator) issued(kind, ref string) bool {
	ok, _ := s.issuedDeferring(kind, ref)
	return ok
}

// issuedDeferring is issued, with the decline code ref defers.
func (s *Simulator) issuedDeferring(kind, ref string) (bool, string) {
	enc, ok := strings.CutPrefix(ref, kind+"_")
	if !ok {
		return false, ""
	}
	raw, err := b32.DecodeString(strings.ToUpper(enc))
	if err != nil || len(raw) != 16 {
		return false, ""
	}
	for _, d := range deferrable {
		if hmac.Equal(raw[10:], s.tag(kind, raw[:10], d)) {
			return true, d
		}
	}
	return false, ""
}

func (s *Simulator) mac(msg string) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// Fingerprint returns a stable, irreversible identifier of a card number:
// HMAC-SHA256 of the digits under secret, 16 bytes in base32. Without the
// secret the number's few unknown digits cannot be brute-forced from it.
func Fingerprint(secret []byte, number string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("fingerprint\x00" + Normalize(number)))
	return strings.ToLower(b32.EncodeToString(h.Sum(nil)[:16]))
}

// Fingerprint is the fingerprint of number under the simulator's secret,
// the one its authorizations carry.
func (s *Simulator) Fingerprint(number string) string { return Fingerprint(s.secret, number) }
