package merchant

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

func TestParseScopes(t *testing.T) {
	t.Parallel()
	got, err := ParseScopes([]string{"refunds:write", "payments:read", "refunds:write"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Scope{ScopePaymentsRead, ScopeRefundsWrite}, got); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name  string
		in    []string
		param string
	}{
		{"empty list", []string{}, "scopes"},
		{"unknown", []string{"payments:read", "payments:write"}, "scopes"},
		{"wrong case", []string{"Payments:read"}, "scopes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScopes(tc.in)
			wantCode(t, err, "scope_invalid", tc.param)
		})
	}
}

func TestAllows(t *testing.T) {
	t.Parallel()
	full := &APIKey{}
	limited := &APIKey{Scopes: []Scope{ScopePaymentLinksWrite, ScopePaymentsRead, ScopeMerchantWrite}}
	tests := []struct {
		key   *APIKey
		scope Scope
		want  bool
	}{
		{full, ScopeAPIKeysWrite, true},
		{full, ScopeAPIKeysRead, true},
		{limited, ScopePaymentLinksWrite, true},
		{limited, ScopePaymentLinksRead, true}, // write implies read
		{limited, ScopeMerchantRead, true},     // merchant:write implies merchant:read
		{limited, ScopePaymentsRead, true},
		{limited, ScopeRefundsWrite, false},
		{limited, ScopePaymentFormsRead, false},
		{limited, ScopeAPIKeysRead, false},
		{&APIKey{Scopes: []Scope{ScopePaymentLinksRead}}, ScopePaymentLinksWrite, false}, // read never implies write
	}
	for _, tc := range tests {
		if got := tc.key.Allows(tc.scope); got != tc.want {
			t.Errorf("key %v Allows(%s) = %v, want %v", tc.key.Scopes, tc.scope, got, tc.want)
		}
	}
}

func (f *fixture) createKey(t *testing.T, caller *APIKey, in NewKey) (*APIKey, error) {
	t.Helper()
	var k *APIKey
	err := f.db.WithTx(f.ctx, func(tx pgx.Tx) (err error) {
		k, err = f.svc.CreateKeyWith(f.ctx, tx, caller, in)
		return err
	})
	return k, err
}

func (f *fixture) roll(caller *APIKey, keyID string, grace time.Duration) (*APIKey, *APIKey, error) {
	var made, old *APIKey
	err := f.db.WithTx(f.ctx, func(tx pgx.Tx) (err error) {
		made, old, err = f.svc.RollKey(f.ctx, tx, caller, keyID, grace)
		return err
	})
	return made, old, err
}

func (f *fixture) auth(k *APIKey) (*APIKey, error) {
	_, got, err := f.svc.AuthenticateKey(f.ctx, f.db.Pool, k.ID, k.Secret)
	return got, err
}

func TestNamedScopedKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k, err := f.createKey(t, f.key, NewKey{Name: "  reporting ", Scopes: []string{"payments:read", "balance:read"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.auth(k)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "reporting" || !got.Allows(ScopePaymentsRead) || got.Allows(ScopeRefundsWrite) {
		t.Errorf("authenticated key = %+v; want reporting, payments:read without refunds:write", got)
	}
	w := got.ToWire()
	if w.Name != "reporting" || !cmp.Equal(w.Scopes, []string{"payments:read", "balance:read"}) || w.ExpiresAt != nil || w.Secret != "" {
		t.Errorf("wire key = %+v", w)
	}
	if full := f.key.ToWire(); full.Scopes != nil {
		t.Errorf("a full-access key shows scopes %v, want null", full.Scopes)
	}
	keys, _, err := f.svc.ListKeys(f.ctx, f.db.Pool, f.m.ID, 10, "")
	if err != nil || len(keys) != 2 || keys[0].ID != k.ID || keys[0].Name != "reporting" || len(keys[0].Scopes) != 2 {
		t.Fatalf("ListKeys = %+v, %v; want the reporting key first, with its scopes", keys, err)
	}

	_, err = f.createKey(t, f.key, NewKey{Scopes: []string{"payments:write"}})
	wantCode(t, err, "scope_invalid", "scopes")
	_, err = f.createKey(t, f.key, NewKey{Name: string(make([]byte, 101))})
	wantCode(t, err, "name_invalid", "name")

	// No key makes a key stronger than itself.
	_, err = f.createKey(t, got, NewKey{})
	wantCode(t, err, "insufficient_scope", "")
	_, err = f.createKey(t, got, NewKey{Scopes: []string{"payments:read", "refunds:write"}})
	wantCode(t, err, "insufficient_scope", "")
	if _, err := f.createKey(t, got, NewKey{Scopes: []string{"payments:read"}}); err != nil {
		t.Errorf("a key making a key with a subset of its scopes: %v", err)
	}
}

func TestRollKeepsTheOldKeyUntilItsExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	scoped, err := f.createKey(t, f.key, NewKey{Name: "shop", Scopes: []string{"payment_links:write"}})
	if err != nil {
		t.Fatal(err)
	}
	grace, err := RollGrace(nil)
	if err != nil || grace != 24*time.Hour {
		t.Fatalf("default grace = %s, %v; want 24h", grace, err)
	}
	made, old, err := f.roll(f.key, scoped.ID, grace)
	if err != nil {
		t.Fatal(err)
	}
	wantExpiry := f.clock.Now().Add(24 * time.Hour)
	if made.Name != "shop" || !cmp.Equal(made.Scopes, scoped.Scopes) || made.Secret == "" || made.ID == scoped.ID ||
		old.ExpiresAt == nil || !old.ExpiresAt.Equal(wantExpiry) {
		t.Fatalf("roll = new %+v, old %+v; want the same name and scopes, and the old key expiring at %s", made, old, wantExpiry)
	}
	f.clock.Advance(24*time.Hour - time.Second)
	if _, err := f.auth(scoped); err != nil {
		t.Fatalf("the rolled key a second before its expiry: %v", err)
	}
	f.clock.Advance(time.Second)
	if _, err := f.auth(scoped); !errors.Is(err, ErrKeyExpired) {
		t.Fatalf("the rolled key at its expiry: %v; want api_key_expired", err)
	}
	if got, err := f.auth(made); err != nil || !got.Allows(ScopePaymentLinksWrite) || got.Allows(ScopePaymentsRead) {
		t.Fatalf("the new key: %+v, %v", got, err)
	}
	// An expired key neither verifies signed links nor rolls again.
	if _, _, err := f.svc.SigningSecret(f.ctx, f.db.Pool, scoped.ID); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("SigningSecret of an expired key: %v; want api_key_not_found", err)
	}
	_, _, err = f.roll(f.key, scoped.ID, grace)
	wantCode(t, err, "api_key_inactive", "")
}

// A signed link is a payment link: only a key that may make links (full
// access, or payment_links:write) verifies one. A read-only key given to a
// reporting tool must not be able to sign links that take payments.
func TestSigningSecretNeedsLinkWrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		scopes []string
		ok     bool
	}{
		{nil, true},
		{[]string{"payment_links:write"}, true},
		{[]string{"payments:read", "payment_links:write"}, true},
		{[]string{"payments:read"}, false},
		{[]string{"payment_links:read"}, false},
		{[]string{"payment_forms:write", "api_keys:write"}, false},
	} {
		k, err := f.createKey(t, f.key, NewKey{Scopes: tc.scopes})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := f.svc.SigningSecret(f.ctx, f.db.Pool, k.ID)
		switch {
		case tc.ok && (err != nil || secret != k.Secret):
			t.Errorf("SigningSecret of a key with scopes %v: %v; want its secret", tc.scopes, err)
		case !tc.ok && !errors.Is(err, ErrKeyNotFound):
			t.Errorf("SigningSecret of a key with scopes %v: %v; want api_key_not_found", tc.scopes, err)
		}
	}
}

func TestRollEdges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		in   int64
		ok   bool
		want time.Duration
	}{{0, true, 0}, {604800, true, 7 * 24 * time.Hour}, {604801, false, 0}, {-1, false, 0}} {
		got, err := RollGrace(&tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("RollGrace(%d) = %s, %v", tc.in, got, err)
		}
		if err != nil {
			wantCode(t, err, "expiry_invalid", "expires_in")
		}
	}
	// Grace 0: the old key stops at once. The merchant still has the new
	// one, so the last-key rule holds.
	made, _, err := f.roll(f.key, f.key.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth(f.key); !errors.Is(err, ErrKeyExpired) {
		t.Errorf("old key after a roll with expires_in 0: %v; want api_key_expired", err)
	}
	f.tx(t, func(tx pgx.Tx) error {
		_, err := f.svc.RevokeKey(f.ctx, tx, Owner(f.m.ID), made.ID)
		wantCode(t, err, "last_active_key", "")
		return nil
	})
	// Rolling twice never extends an expiry already set.
	second, err := f.createKey(t, made, NewKey{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.roll(made, second.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, old, err := f.roll(made, second.ID, 5*time.Hour)
	if err != nil || !old.ExpiresAt.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("second roll: old expires %v, %v; want the first roll's hour", old.ExpiresAt, err)
	}
	// A scoped key cannot roll a full-access key into a new full one.
	scoped, err := f.createKey(t, made, NewKey{Scopes: []string{"api_keys:write"}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.roll(scoped, made.ID, time.Hour)
	wantCode(t, err, "insufficient_scope", "")
	_, _, err = f.roll(made, "key_unknown", time.Hour)
	wantCode(t, err, "api_key_not_found", "")
	// A revoked key cannot be rolled.
	f.tx(t, func(tx pgx.Tx) error { _, err := f.svc.RevokeKey(f.ctx, tx, Owner(f.m.ID), scoped.ID); return err })
	_, _, err = f.roll(made, scoped.ID, time.Hour)
	wantCode(t, err, "api_key_inactive", "")
}
