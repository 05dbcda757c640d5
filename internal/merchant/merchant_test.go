package merchant_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
)

// fixture is the merchant service on a database of the test's own.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *postgres.DB
	svc   *merchant.Service
	usage *merchant.Usage
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	keyring, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: context.Background(), db: pgtest.New(t), usage: merchant.NewUsage(),
		now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = merchant.NewService(keyring, f.usage, func() time.Time { return f.now })
	return f
}

// signUp creates a merchant with email and returns it with its first key.
func (f *fixture) signUp(email string) (*merchant.Merchant, *merchant.APIKey) {
	f.t.Helper()
	su, err := merchant.ValidateSignUp(merchant.SignUp{Name: "Shop", Email: email, Password: "correct horse battery"})
	if err != nil {
		f.t.Fatal(err)
	}
	var (
		m *merchant.Merchant
		k *merchant.APIKey
	)
	err = f.db.WithTx(f.ctx, func(tx pgx.Tx) (err error) {
		m, k, err = f.svc.SignUp(f.ctx, tx, su, "hash")
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return m, k
}

func (f *fixture) createKey(merchantID string) *merchant.APIKey {
	f.t.Helper()
	var k *merchant.APIKey
	err := f.db.WithTx(f.ctx, func(tx pgx.Tx) (err error) {
		k, err = f.svc.CreateKey(f.ctx, tx, merchantID)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return k
}

func (f *fixture) revoke(merchantID, keyID string) (*merchant.APIKey, error) {
	var k *merchant.APIKey
	err := f.db.WithTx(f.ctx, func(tx pgx.Tx) (err error) {
		k, err = f.svc.RevokeKey(f.ctx, tx, merchant.Owner(merchantID), keyID)
		return err
	})
	return k, err
}

func (f *fixture) activeKeys(merchantID string) int {
	f.t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM api_keys WHERE merchant_id = $1 AND revoked_at IS NULL`,
		merchantID).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestValidateSignUp(t *testing.T) {
	ok := merchant.SignUp{Name: " Acme ", Email: " Ops@Acme.test ", Password: "0123456789"}
	tests := []struct {
		name string
		edit func(*merchant.SignUp)
		want error
	}{
		{"valid", func(*merchant.SignUp) {}, nil},
		{"empty name", func(s *merchant.SignUp) { s.Name = "  " }, merchant.ErrNameInvalid},
		{"long name", func(s *merchant.SignUp) { s.Name = strings.Repeat("n", 101) }, merchant.ErrNameInvalid},
		{"bad email", func(s *merchant.SignUp) { s.Email = "ops" }, merchant.ErrEmailInvalid},
		{"display name", func(s *merchant.SignUp) { s.Email = "Ops <ops@acme.test>" }, merchant.ErrEmailInvalid},
		{"IP literal", func(s *merchant.SignUp) { s.Email = "ops@[127.0.0.1]" }, merchant.ErrEmailInvalid},
		{"right-to-left override", func(s *merchant.SignUp) { s.Email = "\u202egnp.a@example.test" }, merchant.ErrEmailInvalid},
		{"zero-width space", func(s *merchant.SignUp) { s.Email = "o\u200bps@acme.test" }, merchant.ErrEmailInvalid},
		{"short password", func(s *merchant.SignUp) { s.Password = "012345678" }, merchant.ErrPasswordTooShort},
		{"long password", func(s *merchant.SignUp) { s.Password = strings.Repeat("p", 257) }, merchant.ErrPasswordTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			got, err := merchant.ValidateSignUp(in)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("ValidateSignUp = %v, want %v", err, tt.want)
			}
			if err == nil && (got.Name != "Acme" || got.Email != "ops@acme.test") {
				t.Fatalf("normalised = %+v, want a trimmed name and a lower-case e-mail", got)
			}
		})
	}
}

// TestSignUpAndAuthenticate: a sign-up makes a merchant and a key that
// authenticates with its secret and nothing else; an e-mail signs up once.
func TestSignUpAndAuthenticate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m, k := f.signUp("owner@tea.test")
	if !strings.HasPrefix(m.ID, "mer_") || !strings.HasPrefix(k.ID, "key_") || !strings.HasPrefix(k.Secret, "sk_test_") {
		t.Fatalf("sign-up = %+v, %+v", m, k)
	}
	got, _, err := f.svc.AuthenticateKey(f.ctx, f.db.Pool, k.ID, k.Secret)
	if err != nil || got.ID != m.ID {
		t.Fatalf("Authenticate with the right secret = %+v, %v", got, err)
	}
	for _, tc := range []struct{ name, id, secret string }{
		{"wrong secret", k.ID, k.Secret + "x"},
		{"unknown key", "key_01m8000000000000000000000a", k.Secret},
		{"malformed id", "mer_123", k.Secret},
		{"secret as id", k.Secret, k.ID},
	} {
		if _, _, err := f.svc.AuthenticateKey(f.ctx, f.db.Pool, tc.id, tc.secret); !errors.Is(err, merchant.ErrKeyInvalid) {
			t.Errorf("%s: %v, want ErrKeyInvalid", tc.name, err)
		}
	}
	su, _ := merchant.ValidateSignUp(merchant.SignUp{Name: "Copy", Email: "OWNER@tea.test", Password: "0123456789"})
	err = f.db.WithTx(f.ctx, func(tx pgx.Tx) error {
		_, _, err := f.svc.SignUp(f.ctx, tx, su, "hash")
		return err
	})
	if !errors.Is(err, merchant.ErrEmailTaken) {
		t.Fatalf("second sign-up with the same e-mail: %v, want ErrEmailTaken", err)
	}
	// The secret is stored only as a digest and sealed, never as is.
	var plain int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM api_keys WHERE position($1 in encode(secret_digest, 'escape') || encode(secret_sealed, 'escape')) > 0`,
		k.Secret).Scan(&plain); err != nil || plain != 0 {
		t.Fatalf("the secret is stored in plaintext (%d rows, %v)", plain, err)
	}
}

// TestKeyLifecycle: keys are made, listed newest first without secrets,
// and revoked at once; the last active key cannot be revoked; a revoked
// key authenticates no more and signs nothing; another merchant's key is
// not found.
func TestKeyLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m, first := f.signUp("keys@tea.test")
	if _, err := f.revoke(m.ID, first.ID); !errors.Is(err, merchant.ErrLastActiveKey) {
		t.Fatalf("revoking the only key: %v, want ErrLastActiveKey", err)
	}
	f.now = f.now.Add(time.Second)
	second := f.createKey(m.ID)
	keys, more, err := f.svc.ListKeys(f.ctx, f.db.Pool, m.ID, 10, "")
	if err != nil || more || len(keys) != 2 || keys[0].ID != second.ID || keys[1].ID != first.ID ||
		keys[0].Secret != "" || keys[1].Secret != "" {
		t.Fatalf("ListKeys = %+v, %v, %v; want both, newest first, without secrets", keys, more, err)
	}
	if page, more, err := f.svc.ListKeys(f.ctx, f.db.Pool, m.ID, 1, ""); err != nil || !more || len(page) != 1 {
		t.Fatalf("first page of one = %d keys, more %v, %v", len(page), more, err)
	}

	f.now = f.now.Add(time.Second)
	revoked, err := f.revoke(m.ID, first.ID)
	if err != nil || revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(f.now) {
		t.Fatalf("RevokeKey = %+v, %v; want revoked now", revoked, err)
	}
	if again, err := f.revoke(m.ID, first.ID); err != nil || !again.RevokedAt.Equal(f.now) {
		t.Fatalf("revoking it again = %+v, %v; want it unchanged", again, err)
	}
	if _, _, err := f.svc.AuthenticateKey(f.ctx, f.db.Pool, first.ID, first.Secret); !errors.Is(err, merchant.ErrKeyRevoked) {
		t.Errorf("a revoked key with its secret: %v, want ErrKeyRevoked", err)
	}
	if _, _, err := f.svc.AuthenticateKey(f.ctx, f.db.Pool, first.ID, first.Secret+"x"); !errors.Is(err, merchant.ErrKeyInvalid) {
		t.Errorf("a revoked key with a wrong secret: %v, want ErrKeyInvalid (no hint it exists)", err)
	}
	if _, _, err := f.svc.SigningSecret(f.ctx, f.db.Pool, first.ID); !errors.Is(err, merchant.ErrKeyNotFound) {
		t.Errorf("SigningSecret of a revoked key: %v, want ErrKeyNotFound", err)
	}
	if _, sec, err := f.svc.SigningSecret(f.ctx, f.db.Pool, second.ID); err != nil || sec != second.Secret {
		t.Errorf("SigningSecret of the active key = %v; want its secret back", err)
	}
	if _, err := f.revoke(m.ID, second.ID); !errors.Is(err, merchant.ErrLastActiveKey) {
		t.Errorf("revoking the last active key: %v, want ErrLastActiveKey", err)
	}
	other, _ := f.signUp("other@tea.test")
	if _, err := f.revoke(other.ID, second.ID); !errors.Is(err, merchant.ErrKeyNotFound) {
		t.Errorf("another merchant revoking this key: %v, want ErrKeyNotFound", err)
	}
	if _, err := f.svc.KeySecret(f.ctx, f.db.Pool, other.ID, second.ID); !errors.Is(err, merchant.ErrKeyNotFound) {
		t.Errorf("another merchant's KeySecret: %v, want ErrKeyNotFound", err)
	}
	if n := f.activeKeys(m.ID); n != 1 {
		t.Fatalf("%d active keys, want 1", n)
	}
}

// TestConcurrentRevocationsKeepOneKey: five keys each revoked at the same
// moment; exactly one survives.
func TestConcurrentRevocationsKeepOneKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m, k := f.signUp("race@tea.test")
	ids := []string{k.ID}
	for range 4 {
		ids = append(ids, f.createKey(m.ID).ID)
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, len(ids))
	)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = f.revoke(m.ID, id)
		}()
	}
	close(start)
	wg.Wait()
	refused := 0
	for _, err := range errs {
		switch {
		case errors.Is(err, merchant.ErrLastActiveKey):
			refused++
		case err != nil:
			t.Errorf("RevokeKey: %v", err)
		}
	}
	if refused != 1 || f.activeKeys(m.ID) != 1 {
		t.Fatalf("%d revocations refused, %d keys active; want exactly one of each", refused, f.activeKeys(m.ID))
	}
}

// TestKeyUseIsWrittenInBatches: authenticating records use in memory;
// Flush writes it, never moving last_used_at backwards.
func TestKeyUseIsWrittenInBatches(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m, k := f.signUp("usage@tea.test")
	for range 3 {
		if _, _, err := f.svc.AuthenticateKey(f.ctx, f.db.Pool, k.ID, k.Secret); err != nil {
			t.Fatal(err)
		}
	}
	lastUsed := func() *time.Time {
		keys, _, err := f.svc.ListKeys(f.ctx, f.db.Pool, m.ID, 1, "")
		if err != nil {
			t.Fatal(err)
		}
		return keys[0].LastUsedAt
	}
	if lastUsed() != nil {
		t.Fatal("last_used_at written per request; want it batched")
	}
	if err := f.usage.Flush(f.ctx, f.db.Pool); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); got == nil || !got.Equal(f.now) {
		t.Fatalf("last_used_at after Flush = %v, want %v", got, f.now)
	}
	f.usage.Touch(k.ID, f.now.Add(-time.Hour)) // a replica flushing late
	if err := f.usage.Flush(f.ctx, f.db.Pool); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(f.now) {
		t.Fatalf("last_used_at moved back to %v", got)
	}
}
