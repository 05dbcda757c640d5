package wallet

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
)

func TestDeleteExpiredSessionsKeepsLiveOnes(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	rdb, _ := redistest.New(t)
	keys, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := now
	s := NewService(db, rdb, keys, Config{SessionTTL: time.Hour, MaxFailures: 10, Lockout: time.Minute}, func() time.Time { return clock })
	ctx := context.Background()
	su, err := ValidateSignUp(SignUp{Email: "gc@example.test", Password: "0123456789", FirstName: "G", LastName: "C", Phone: "+14155550123"})
	if err != nil {
		t.Fatal(err)
	}
	var oldToken, liveToken string
	err = db.WithTx(ctx, func(tx pgx.Tx) error {
		u, err := s.CreateUser(ctx, tx, su, "x")
		if err != nil {
			return err
		}
		clock = now.Add(-48 * time.Hour)
		if oldToken, _, err = s.StartSession(ctx, tx, u.ID, MethodPassword); err != nil {
			return err
		}
		clock = now
		liveToken, _, err = s.StartSession(ctx, tx, u.ID, MethodPassword)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := DeleteExpiredSessions(ctx, db.Pool, now.Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("deleted %d (%v), want the one expired a day ago", n, err)
	}
	if _, err := s.Authenticate(ctx, liveToken); err != nil {
		t.Errorf("live session: %v", err)
	}
	if _, err := s.Authenticate(ctx, oldToken); err == nil {
		t.Error("an expired token authenticated")
	}
}
