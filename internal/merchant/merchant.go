// Package merchant manages merchants, their settings and their API keys:
// sign-up, what a merchant accepts at checkout, key creation with names
// and scopes, authentication, rolling and revocation.
package merchant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/wire"
)

// Errors returned by this package.
var (
	ErrEmailTaken       = &apperr.Error{Kind: apperr.Conflict, Code: "email_taken", Message: "A merchant with this email already exists.", Param: "email"}
	ErrPasswordTooShort = &apperr.Error{Kind: apperr.Invalid, Code: "password_too_short", Message: "The password must be at least 10 characters.", Param: "password"}
	ErrPasswordTooLong  = &apperr.Error{Kind: apperr.Invalid, Code: "password_too_long", Message: "The password must be at most 256 characters.", Param: "password"}
	ErrEmailInvalid     = &apperr.Error{Kind: apperr.Invalid, Code: "email_invalid", Message: "The email address is not valid.", Param: "email"}
	ErrNameInvalid      = &apperr.Error{Kind: apperr.Invalid, Code: "name_invalid", Message: "The name must be 1 to 100 characters.", Param: "name"}
	ErrKeyInvalid       = &apperr.Error{Kind: apperr.Unauthenticated, Code: "api_key_invalid", Message: "The API key id or secret is not valid."}
	ErrKeyRevoked       = &apperr.Error{Kind: apperr.Unauthenticated, Code: "api_key_revoked", Message: "This API key has been revoked."}
	ErrKeyNotFound      = &apperr.Error{Kind: apperr.NotFound, Code: "api_key_not_found", Message: "No such API key."}
	ErrLastActiveKey    = &apperr.Error{Kind: apperr.Conflict, Code: "last_active_key", Message: "The last active API key cannot be revoked; create another first."}
	ErrNotFound         = &apperr.Error{Kind: apperr.NotFound, Code: "merchant_not_found", Message: "No such merchant."}
)

// Merchant is a business that takes payments.
type Merchant struct {
	ID        string
	Name      string
	Email     string
	CreatedAt time.Time
	// PaymentEmails: the merchant is e-mailed about each succeeded payment
	// (payment.succeeded is in Settings.NotifyOn).
	PaymentEmails bool
	// Settings are as they apply: lists the merchant never set hold
	// everything the platform offers, and NotificationEmail is Email
	// unless the merchant chose another.
	Settings Settings
}

// APIKey is a merchant's credential pair. Secret is only set on the value
// returned at creation; it is never readable again. Scopes is nil for a
// key with full access; ExpiresAt is set once the key was rolled.
type APIKey struct {
	ID         string
	MerchantID string
	Name       string
	Scopes     []Scope
	Secret     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	ExpiresAt  *time.Time
}

// SignUp is what a new merchant gives.
type SignUp struct {
	Name     string
	Email    string
	Password string
}

// Service manages merchants and API keys.
type Service struct {
	seal       *seal.Keyring
	now        func() time.Time
	usage      *Usage
	currencies money.Set
}

// NewService returns a Service sealing key secrets with keyring and
// recording key use in usage. The platform's currencies are
// money.DefaultAccepted until WithCurrencies says otherwise.
func NewService(keyring *seal.Keyring, usage *Usage, now func() time.Time) *Service {
	set, _ := money.ParseSet(money.DefaultAccepted)
	return &Service{seal: keyring, now: now, usage: usage, currencies: set}
}

// WithCurrencies sets the platform's currencies (PAYLINK_CURRENCIES): what
// merchants may choose from, and what a merchant that never chose accepts.
// Call it while wiring, before the Service is used.
func (s *Service) WithCurrencies(set money.Set) *Service {
	s.currencies = set
	return s
}

// ValidateSignUp checks in and returns it normalised (trimmed name,
// lower-case email), or an *apperr.Error naming the bad field. The name
// must pass ValidateName.
func ValidateSignUp(in SignUp) (SignUp, error) {
	name, err := ValidateName(in.Name)
	if err != nil {
		return in, err
	}
	in.Name = name
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return in, ErrEmailInvalid
	}
	in.Email = email
	return in, ValidatePassword(in.Password)
}

// ValidatePassword checks a new dashboard password, at sign-up or when it
// is changed or reset: ErrPasswordTooShort under 10 characters,
// ErrPasswordTooLong over 256 bytes.
func ValidatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < 10 {
		return ErrPasswordTooShort
	}
	if len(pw) > 256 {
		return ErrPasswordTooLong
	}
	return nil
}

// NormalizeEmail returns addr trimmed and lower-cased if it is a bare
// address (no display name) of at most 254 characters, at a domain name:
// not an IP literal (a@[127.0.0.1], which would send mail to a host
// rather than a domain), and without invisible or direction-changing
// characters, which make an address read as another.
func NormalizeEmail(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || len(addr) > 254 {
		return "", ErrEmailInvalid
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") ||
		strings.IndexFunc(addr, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
		return "", ErrEmailInvalid
	}
	return strings.ToLower(addr), nil
}

// SignUp creates a merchant and its first API key in tx. The password must
// already be validated with ValidateSignUp; hashing it (password.Hasher)
// is deliberately slow, so callers do it before opening tx. It returns
// ErrEmailTaken.
func (s *Service) SignUp(ctx context.Context, tx pgx.Tx, in SignUp, passwordHash string) (*Merchant, *APIKey, error) {
	m := &Merchant{ID: id.New("mer"), Name: in.Name, Email: in.Email, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	m.Settings = s.resolve(m.Email, nil, nil, nil, nil, defaultNotifyOn)
	m.PaymentEmails = slices.Contains(defaultNotifyOn, "payment.succeeded")
	_, err := tx.Exec(ctx, insertMerchant, m.ID, m.Name, m.Email, passwordHash, m.CreatedAt)
	switch {
	case postgres.IsUniqueViolation(err, "merchants_email_key"):
		return nil, nil, ErrEmailTaken
	case err != nil:
		return nil, nil, fmt.Errorf("insert merchant: %w", err)
	}
	k, err := s.CreateKey(ctx, tx, m.ID)
	if err != nil {
		return nil, nil, err
	}
	return m, k, nil
}

// CreateKey makes a new key pair with full access for merchantID in tx
// and returns it with its secret, which is never readable again.
func (s *Service) CreateKey(ctx context.Context, tx pgx.Tx, merchantID string) (*APIKey, error) {
	return s.insertKey(ctx, tx, merchantID, "", nil)
}

func (s *Service) insertKey(ctx context.Context, tx pgx.Tx, merchantID, name string, scopes []Scope) (*APIKey, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	k := &APIKey{
		ID:         id.New("key"),
		MerchantID: merchantID,
		Name:       name,
		Scopes:     scopes,
		Secret:     "sk_test_" + base64.RawURLEncoding.EncodeToString(raw),
		CreatedAt:  s.now().UTC().Truncate(time.Microsecond),
	}
	digest := sha256.Sum256([]byte(k.Secret))
	sealed := s.seal.Seal([]byte(k.Secret), []byte(k.ID))
	if _, err := tx.Exec(ctx, insertKey, k.ID, merchantID, digest[:], sealed, k.CreatedAt, name, scopeNames(scopes)); err != nil {
		return nil, fmt.Errorf("insert api key: %w", err)
	}
	return k, nil
}

// AuthenticateKey checks a key id and secret and returns the key's
// merchant, with its settings as they are now, and the key, whose Allows
// says what it may do. It returns ErrKeyInvalid for an unknown id or a
// wrong secret (the same answer, so ids cannot be probed), and
// ErrKeyRevoked or ErrKeyExpired for a key presented with its right
// secret that was revoked, or rolled and past its expires_at. Use is
// recorded in memory, not written.
func (s *Service) AuthenticateKey(ctx context.Context, db postgres.DBTX, keyID, secret string) (*Merchant, *APIKey, error) {
	if !id.Valid("key", keyID) || !strings.HasPrefix(secret, "sk_test_") {
		return nil, nil, ErrKeyInvalid
	}
	var (
		digest []byte
		kr     keyRow
	)
	m, err := s.scanMerchant(db.QueryRow(ctx, selectKeyForAuth, keyID), append([]any{&digest}, kr.dest()...)...)
	given := sha256.Sum256([]byte(secret))
	now := s.now()
	k := kr.key()
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil, ErrKeyInvalid
	case err != nil:
		return nil, nil, fmt.Errorf("look up api key: %w", err)
	case subtle.ConstantTimeCompare(digest, given[:]) != 1:
		return nil, nil, ErrKeyInvalid
	case k.RevokedAt != nil:
		return nil, nil, ErrKeyRevoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return nil, nil, ErrKeyExpired
	}
	s.usage.Touch(keyID, now)
	return m, k, nil
}

// KeySecret returns the plaintext secret of an active key of merchantID, for
// verifying HMACs the merchant made with it. It returns ErrKeyNotFound for
// an unknown, revoked or expired key.
func (s *Service) KeySecret(ctx context.Context, db postgres.DBTX, merchantID, keyID string) (string, error) {
	var sealed []byte
	err := db.QueryRow(ctx, selectKeySealed, merchantID, keyID, s.now()).Scan(&sealed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", ErrKeyNotFound
	case err != nil:
		return "", fmt.Errorf("read api key: %w", err)
	}
	pt, err := s.seal.Open(sealed, []byte(keyID))
	if err != nil {
		return "", fmt.Errorf("open api key %s: %w", keyID, err)
	}
	return string(pt), nil
}

// SigningSecret returns the merchant of the active key keyID and the key's
// plaintext secret, for verifying a link the merchant signed offline with
// it (the key id is all the link carries). The merchant comes with its
// settings as they are now. It returns ErrKeyNotFound for an unknown,
// revoked or expired key, and for a key whose scopes lack
// payment_links:write: a signed link is a payment link, so a key that may
// not make links through the API (a read-only reporting key, say) may not
// sign them either.
func (s *Service) SigningSecret(ctx context.Context, db postgres.DBTX, keyID string) (*Merchant, string, error) {
	if !id.Valid("key", keyID) {
		return nil, "", ErrKeyNotFound
	}
	var sealed []byte
	m, err := s.scanMerchant(db.QueryRow(ctx, selectSigningKey, keyID, s.now(), string(ScopePaymentLinksWrite)), &sealed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, "", ErrKeyNotFound
	case err != nil:
		return nil, "", fmt.Errorf("read api key: %w", err)
	}
	pt, err := s.seal.Open(sealed, []byte(keyID))
	if err != nil {
		return nil, "", fmt.Errorf("open api key %s: %w", keyID, err)
	}
	return m, string(pt), nil
}

// Get returns the merchant with id. It returns ErrNotFound.
func (s *Service) Get(ctx context.Context, db postgres.DBTX, merchantID string) (*Merchant, error) {
	return s.oneMerchant(db.QueryRow(ctx, selectMerchant, merchantID))
}

func (s *Service) oneMerchant(r pgx.Row) (*Merchant, error) {
	m, err := s.scanMerchant(r)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("read merchant: %w", err)
	}
	return m, nil
}

// GetMany returns the merchants with the given ids, by id, in one query;
// ids that name no merchant are left out.
func (s *Service) GetMany(ctx context.Context, db postgres.DBTX, ids []string) (map[string]*Merchant, error) {
	rows, err := db.Query(ctx, selectMerchants, ids)
	if err != nil {
		return nil, fmt.Errorf("read merchants: %w", err)
	}
	defer rows.Close()
	out := make(map[string]*Merchant, len(ids))
	for rows.Next() {
		m, err := s.scanMerchant(rows)
		if err != nil {
			return nil, fmt.Errorf("read merchants: %w", err)
		}
		out[m.ID] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read merchants: %w", err)
	}
	return out, nil
}

// ListKeys returns up to limit keys of merchantID older than startingAfter
// (all when empty), newest first, and whether more follow.
func (s *Service) ListKeys(ctx context.Context, db postgres.DBTX, merchantID string, limit int, startingAfter string) ([]APIKey, bool, error) {
	keys, more, err := postgres.PageNewest(ctx, db, limit, scanKey,
		postgres.NewestOf(selectKeys, "merchant_id", merchantID).Before(startingAfter))
	if err != nil {
		return nil, false, fmt.Errorf("list api keys: %w", err)
	}
	return keys, more, nil
}

func scanKey(r pgx.CollectableRow) (APIKey, error) {
	k, err := scanKeyInto(r, nil)
	if err != nil {
		return APIKey{}, err
	}
	return *k, nil
}

// RevokeKey revokes key keyID of the merchant of caller, the key making
// the request, at once; revoking a revoked key answers it unchanged. No
// key can revoke a key with more authority than its own. The merchant row
// is locked so two concurrent revocations cannot both pass the last-key
// check: a merchant always keeps one key that is neither revoked nor
// rolled (set to expire). It returns ErrKeyNotFound, ErrLastActiveKey, or
// a 403 insufficient_scope error when keyID has a scope caller lacks.
func (s *Service) RevokeKey(ctx context.Context, tx pgx.Tx, caller *APIKey, keyID string) (*APIKey, error) {
	merchantID := caller.MerchantID
	k, lasting, err := lockKey(ctx, tx, merchantID, keyID)
	if err != nil {
		return nil, err
	}
	if err := caller.covers(k.Scopes, "revoke"); err != nil {
		return nil, err
	}
	if k.RevokedAt != nil {
		return k, nil
	}
	if k.ExpiresAt == nil && lasting <= 1 {
		return nil, ErrLastActiveKey
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if _, err := tx.Exec(ctx, revokeKey, merchantID, keyID, now); err != nil {
		return nil, fmt.Errorf("revoke api key: %w", err)
	}
	k.RevokedAt = &now
	return k, nil
}

// FindByEmail returns the merchant with email (any case). It returns
// ErrNotFound.
func (s *Service) FindByEmail(ctx context.Context, db postgres.DBTX, email string) (*Merchant, error) {
	return s.oneMerchant(db.QueryRow(ctx, selectMerchantByEmail, email))
}

// RevokeKeysExcept revokes every active key of merchantID but keepID, for
// operators replacing all credentials at once.
func (s *Service) RevokeKeysExcept(ctx context.Context, tx pgx.Tx, merchantID, keepID string) error {
	if _, err := tx.Exec(ctx, revokeOtherKeys, merchantID, keepID, s.now().UTC()); err != nil {
		return fmt.Errorf("revoke api keys: %w", err)
	}
	return nil
}

// SetPaymentEmails turns the e-mails about each succeeded payment on or
// off for merchantID in tx (adds payment.succeeded to notify_on or removes
// it) and returns the merchant. It returns
// ErrNotFound.
func (s *Service) SetPaymentEmails(ctx context.Context, tx pgx.Tx, merchantID string, on bool) (*Merchant, error) {
	return s.oneMerchant(tx.QueryRow(ctx, setPaymentEmails, merchantID, on))
}

// ToWire returns m as the API shows it.
func ToWire(m *Merchant) wire.Merchant {
	st := m.Settings
	w := wire.Merchant{ID: m.ID, Name: m.Name, Email: m.Email, CreatedAt: wire.Time(m.CreatedAt), PaymentEmails: m.PaymentEmails,
		Currencies: make([]string, len(st.Currencies)), PaymentMethods: make([]string, len(st.Methods)),
		CardBrands: make([]string, len(st.Brands)), NotificationEmail: st.NotificationEmail,
		NotifyOn: append([]string{}, st.NotifyOn...)}
	for i, c := range st.Currencies {
		w.Currencies[i] = string(c)
	}
	for i, x := range st.Methods {
		w.PaymentMethods[i] = string(x)
	}
	for i, b := range st.Brands {
		w.CardBrands[i] = string(b)
	}
	return w
}

// ToWire returns k as the API shows it; the secret only if k was just made.
// Scopes is null for a key with full access.
func (k *APIKey) ToWire() wire.APIKey {
	return wire.APIKey{ID: k.ID, Name: k.Name, Scopes: scopeNames(k.Scopes), Secret: k.Secret,
		CreatedAt: wire.Time(k.CreatedAt), LastUsedAt: wire.TimePtr(k.LastUsedAt), RevokedAt: wire.TimePtr(k.RevokedAt),
		ExpiresAt: wire.TimePtr(k.ExpiresAt)}
}
