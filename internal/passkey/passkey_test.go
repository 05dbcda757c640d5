package passkey

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
)

func TestChallengeBindsEveryField(t *testing.T) {
	nonce := []byte("0123456789abcdef0123456789abcdef")
	base := Binding{Action: "transfer", Amount: money.Amount{Minor: 500, Currency: money.USD}, Payee: "user:usr_b"}
	want := string(challengeFor(nonce, "usr_a", base))
	for name, b := range map[string]Binding{
		"amount":   {Action: "transfer", Amount: money.Amount{Minor: 501, Currency: money.USD}, Payee: "user:usr_b"},
		"currency": {Action: "transfer", Amount: money.Amount{Minor: 500, Currency: money.EUR}, Payee: "user:usr_b"},
		"payee":    {Action: "transfer", Amount: money.Amount{Minor: 500, Currency: money.USD}, Payee: "user:usr_c"},
		"action":   {Action: "payment", Amount: money.Amount{Minor: 500, Currency: money.USD}, Payee: "user:usr_b"},
	} {
		if string(challengeFor(nonce, "usr_a", b)) == want {
			t.Errorf("changing the %s does not change the challenge", name)
		}
	}
	if string(challengeFor(nonce, "usr_x", base)) == want || string(challengeFor([]byte("other nonce"), "usr_a", base)) == want {
		t.Error("the user or nonce does not change the challenge")
	}
}

func TestDeleteExpiredChallenges(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	now := time.Now()
	clock := now.Add(-time.Hour)
	s, err := New(Config{RPID: "paylink.test", RPName: "Paylink", Origins: []string{"https://paylink.test"}, Timeout: time.Minute},
		func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	begin := func() {
		if err := db.WithTx(ctx, func(tx pgx.Tx) error { _, err := s.BeginLogin(ctx, tx); return err }); err != nil {
			t.Fatal(err)
		}
	}
	begin() // expired a minute after an hour ago
	clock = now
	begin() // live
	n, err := DeleteExpiredChallenges(ctx, db.Pool, now)
	if err != nil || n != 1 {
		t.Fatalf("deleted %d (%v), want 1", n, err)
	}
	var left int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM webauthn_challenges").Scan(&left); err != nil || left != 1 {
		t.Fatalf("left %d (%v), want the live one", left, err)
	}
}
