package walletsecurity

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/wallet"
)

// TestDeleteExpiredResetsKeepsWorkingOnes: the clean-up removes links
// that expired before the cutoff and keeps one that still works, which
// then still sets the password.
func TestDeleteExpiredResetsKeepsWorkingOnes(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	rdb, _ := redistest.New(t)
	keys, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := now
	tick := func() time.Time { return clock }
	kdf := password.Config{Wait: time.Minute, KDF: func(pw, salt []byte, _, _ uint32, _ uint8, n uint32) []byte {
		return []byte(strings.Repeat("k", int(n)))
	}}
	hasher := password.NewHasher(kdf)
	w := wallet.NewService(db, rdb, keys, wallet.Config{SessionTTL: time.Hour, MaxFailures: 10, Lockout: time.Minute, Passwords: hasher}, tick)
	s := New(db, w, hasher, keys, tick)
	ctx := context.Background()
	su, err := wallet.ValidateSignUp(wallet.SignUp{Email: "gc@example.test", Password: "0123456789", FirstName: "G", LastName: "C", Phone: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.WithTx(ctx, func(tx pgx.Tx) error { _, err := w.CreateUser(ctx, tx, su, "x"); return err }); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	link := func(token string) string { tokens = append(tokens, token); return "https://pay.test/r#token=" + token }
	clock = now.Add(-48 * time.Hour)
	if err := s.RequestPasswordReset(ctx, su.Email, link); err != nil {
		t.Fatal(err)
	}
	clock = now
	if err := s.RequestPasswordReset(ctx, su.Email, link); err != nil {
		t.Fatal(err)
	}
	n, err := DeleteExpiredResets(ctx, db.Pool, now.Add(-24*time.Hour))
	if err != nil || n != 1 || len(tokens) != 2 {
		t.Fatalf("deleted %d (%v) of %d links; want the one expired a day ago", n, err, len(tokens))
	}
	if err := s.ResetPassword(ctx, tokens[0], "a brand new password", ""); !errors.Is(err, ErrResetTokenInvalid) {
		t.Errorf("deleted link: %v; want reset_token_invalid", err)
	}
	if err := s.ResetPassword(ctx, tokens[1], "a brand new password", ""); err != nil {
		t.Errorf("working link: %v", err)
	}
}
