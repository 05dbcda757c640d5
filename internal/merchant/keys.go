package merchant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
)

// Scope is a permission an API key may be limited to. A route declares
// the one it needs and the HTTP edge checks it (edge.Caller.Allows, the
// same rule as APIKey.Allows).
type Scope string

// The scopes a key can be given (API.md).
const (
	ScopePaymentLinksRead  Scope = "payment_links:read"
	ScopePaymentLinksWrite Scope = "payment_links:write"
	ScopePaymentFormsRead  Scope = "payment_forms:read"
	ScopePaymentFormsWrite Scope = "payment_forms:write"
	ScopePaymentsRead      Scope = "payments:read"
	ScopeRefundsWrite      Scope = "refunds:write"
	ScopeWebhooksRead      Scope = "webhooks:read"
	ScopeWebhooksWrite     Scope = "webhooks:write"
	ScopeBalanceRead       Scope = "balance:read"
	ScopeMerchantRead      Scope = "merchant:read"
	ScopeMerchantWrite     Scope = "merchant:write"
	ScopeAPIKeysRead       Scope = "api_keys:read"
	ScopeAPIKeysWrite      Scope = "api_keys:write"
	ScopeRiskRead          Scope = "risk:read"
	ScopeRiskWrite         Scope = "risk:write"
)

// Grantable lists the scopes a key can be given, in the API's order.
// merchant:read and api_keys:read are not in API.md's list, but its
// ":write implies :read" and the 403 naming them (GET /v1/merchant, GET
// /v1/api_keys) need them to be grantable, or a read-only key could not
// be made for those routes.
var Grantable = []Scope{ScopePaymentLinksRead, ScopePaymentLinksWrite, ScopePaymentFormsRead, ScopePaymentFormsWrite,
	ScopePaymentsRead, ScopeRefundsWrite, ScopeWebhooksRead, ScopeWebhooksWrite, ScopeBalanceRead, ScopeMerchantRead,
	ScopeMerchantWrite, ScopeAPIKeysRead, ScopeAPIKeysWrite, ScopeRiskRead, ScopeRiskWrite}

// Roll grace: how long a rolled key keeps working (API.md).
const (
	MaxRollGrace     = 7 * 24 * time.Hour
	DefaultRollGrace = 24 * time.Hour
)

// Errors of scoped keys and rolls.
var (
	ErrKeyExpired = &apperr.Error{Kind: apperr.Unauthenticated, Code: "api_key_expired",
		Message: "This API key was rolled and has expired; use the key that replaced it."}
	ErrScopeInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "scope_invalid", Param: "scopes",
		Message: "scopes must list one or more of: payment_links:read, payment_links:write, payment_forms:read, " +
			"payment_forms:write, payments:read, refunds:write, webhooks:read, webhooks:write, balance:read, " +
			"merchant:read, merchant:write, api_keys:read, api_keys:write, risk:read, risk:write. Omit scopes for a key with full access."}
	ErrKeyNameInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "name_invalid", Param: "name",
		Message: "The key name must be at most 100 characters."}
	ErrRollGraceInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "expiry_invalid", Param: "expires_in",
		Message: "expires_in must be from 0 to 604800 seconds (7 days); it defaults to 86400 (24 hours)."}
	ErrKeyInactive = &apperr.Error{Kind: apperr.Conflict, Code: "api_key_inactive",
		Message: "Only a key that is neither revoked nor expired can be rolled."}
	errInsufficientScope = &apperr.Error{Kind: apperr.Forbidden, Code: "insufficient_scope"}
)

// ParseScopes reads the scopes of a new key. It returns ErrScopeInvalid,
// naming the bad element, for an unknown scope or an empty list (omit the
// list, nil, for full access). Repeats are dropped; the order is
// Grantable's.
func ParseScopes(list []string) ([]Scope, error) {
	if len(list) == 0 {
		return nil, ErrScopeInvalid
	}
	for i, s := range list {
		if !slices.Contains(Grantable, Scope(s)) {
			return nil, ErrScopeInvalid.AtIndex("scopes", i)
		}
	}
	var out []Scope
	for _, g := range Grantable {
		if slices.Contains(list, string(g)) {
			out = append(out, g)
		}
	}
	return out, nil
}

// Allows reports whether k may do what scope s covers: a key without
// scopes may do everything, and x:write implies x:read.
func (k *APIKey) Allows(s Scope) bool {
	if k.Scopes == nil || slices.Contains(k.Scopes, s) {
		return true
	}
	if res, ok := strings.CutSuffix(string(s), ":read"); ok {
		return slices.Contains(k.Scopes, Scope(res+":write"))
	}
	return false
}

// covers reports whether every scope of want (nil: full access) is
// allowed to k, so that no key can make, roll or revoke a key stronger
// than itself; act ("make", "roll", "revoke") words the 403.
func (k *APIKey) covers(want []Scope, act string) error {
	if k.Scopes == nil {
		return nil
	}
	if want == nil {
		return errInsufficientScope.WithMessage("Only a key with full access can " + act + " a key with full access.")
	}
	for _, s := range want {
		if !k.Allows(s) {
			return errInsufficientScope.WithMessage(fmt.Sprintf("This API key cannot %s a key with the %s scope, which it does not have.", act, s))
		}
	}
	return nil
}

// Authority names what k may do, the same for every key with the same
// scopes: its scopes, or full access.
func (k *APIKey) Authority() string {
	if k.Scopes == nil {
		return "key scopes: full access"
	}
	return "key scopes: " + strings.Join(scopeNames(k.Scopes), " ")
}

func scopeNames(scopes []Scope) []string {
	if scopes == nil {
		return nil
	}
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return out
}

// NewKey is what a merchant asks for in a new key: a name (may be empty)
// and its scopes as sent (nil for full access).
type NewKey struct {
	Name   string
	Scopes []string
}

// CreateKeyWith makes a new key pair named and scoped as in asks, for the
// merchant of caller, the key making the request, in tx; it returns it
// with its secret, which is never readable again. No key can make a key
// with a scope it does not allow itself. It returns ErrKeyNameInvalid,
// ErrScopeInvalid or a 403 insufficient_scope error.
func (s *Service) CreateKeyWith(ctx context.Context, tx pgx.Tx, caller *APIKey, in NewKey) (*APIKey, error) {
	name := strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return nil, ErrKeyNameInvalid
	}
	var scopes []Scope
	if in.Scopes != nil {
		var err error
		if scopes, err = ParseScopes(in.Scopes); err != nil {
			return nil, err
		}
	}
	if err := caller.covers(scopes, "make"); err != nil {
		return nil, err
	}
	return s.insertKey(ctx, tx, caller.MerchantID, name, scopes)
}

// RollGrace reads a roll's expires_in in seconds (nil: DefaultRollGrace).
// It returns ErrRollGraceInvalid outside 0 .. MaxRollGrace.
func RollGrace(expiresIn *int64) (time.Duration, error) {
	if expiresIn == nil {
		return DefaultRollGrace, nil
	}
	if *expiresIn < 0 || *expiresIn > int64(MaxRollGrace/time.Second) {
		return 0, ErrRollGraceInvalid
	}
	return time.Duration(*expiresIn) * time.Second, nil
}

// RollKey replaces key keyID of the merchant of caller in tx: a new pair
// with the same name and scopes (returned with its secret), while the old
// key keeps working until grace from now (or until it was already set to
// expire, if sooner) and is then refused with ErrKeyExpired. A grace of 0
// ends the old key at once. It locks the merchant row like RevokeKey. It
// returns ErrKeyNotFound, ErrKeyInactive for a revoked or expired key, or
// a 403 insufficient_scope error when the caller may not give the key's
// scopes.
func (s *Service) RollKey(ctx context.Context, tx pgx.Tx, caller *APIKey, keyID string, grace time.Duration) (*APIKey, *APIKey, error) {
	old, _, err := lockKey(ctx, tx, caller.MerchantID, keyID)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if old.RevokedAt != nil || (old.ExpiresAt != nil && !now.Before(*old.ExpiresAt)) {
		return nil, nil, ErrKeyInactive
	}
	if err := caller.covers(old.Scopes, "roll"); err != nil {
		return nil, nil, err
	}
	k, err := s.insertKey(ctx, tx, old.MerchantID, old.Name, old.Scopes)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.QueryRow(ctx, expireKey, old.MerchantID, old.ID, now.Add(grace)).Scan(&old.ExpiresAt); err != nil {
		return nil, nil, fmt.Errorf("expire rolled api key: %w", err)
	}
	return k, old, nil
}

// lockKey locks merchantID's row, then reads and locks keyID, and counts
// the merchant's keys that are neither revoked nor set to expire. It
// returns ErrKeyNotFound.
func lockKey(ctx context.Context, tx pgx.Tx, merchantID, keyID string) (*APIKey, int, error) {
	if _, err := tx.Exec(ctx, lockMerchant, merchantID); err != nil {
		return nil, 0, fmt.Errorf("lock merchant: %w", err)
	}
	var lasting int
	if err := tx.QueryRow(ctx, countLastingKeys, merchantID).Scan(&lasting); err != nil {
		return nil, 0, fmt.Errorf("count active keys: %w", err)
	}
	k, err := scanKeyInto(tx.QueryRow(ctx, selectKeyForUpdate, merchantID, keyID), nil)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, 0, ErrKeyNotFound
	case err != nil:
		return nil, 0, fmt.Errorf("read api key: %w", err)
	}
	return k, lasting, nil
}

// scanKeyInto scans dest (columns before the key's, may be nil) and then
// keyColumns.
func scanKeyInto(r pgx.Row, dest []any) (*APIKey, error) {
	var kr keyRow
	if err := r.Scan(append(dest, kr.dest()...)...); err != nil {
		return nil, err
	}
	return kr.key(), nil
}

// keyRow is keyColumns as scanned.
type keyRow struct {
	k      APIKey
	scopes []string
}

func (kr *keyRow) dest() []any {
	k := &kr.k
	return []any{&k.ID, &k.MerchantID, &k.Name, &kr.scopes, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt, &k.ExpiresAt}
}

func (kr *keyRow) key() *APIKey {
	k := kr.k
	if kr.scopes != nil {
		k.Scopes = make([]Scope, len(kr.scopes))
		for i, sc := range kr.scopes {
			k.Scopes[i] = Scope(sc)
		}
	}
	return &k
}

// Owner is the caller of a request the merchant makes itself, through its
// dashboard session rather than with a key: full access, so it may make,
// roll and revoke keys of any scope (CreateKeyWith, RollKey, RevokeKey).
func Owner(merchantID string) *APIKey { return &APIKey{MerchantID: merchantID} }
