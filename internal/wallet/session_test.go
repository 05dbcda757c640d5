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

func TestLogoutTombstoneBeatsARacingCacheFill(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	rdb, _ := redistest.New(t)
	keys, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(db, rdb, keys, Config{SessionTTL: time.Hour, MaxFailures: 10, Lockout: time.Minute}, time.Now)
	ctx := context.Background()
	su, _ := ValidateSignUp(SignUp{Email: "race@example.test", Password: "0123456789", FirstName: "R", LastName: "C", Phone: "+14155550123"})
	var token string
	err = db.WithTx(ctx, func(tx pgx.Tx) error {
		u, err := s.CreateUser(ctx, tx, su, "x")
		if err != nil {
			return err
		}
		token, _, err = s.StartSession(ctx, tx, u.ID, MethodPassword)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Another replica read the live session from PostgreSQL just before
	// the log-out, and fills the cache just after it.
	stale, err := s.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	s.cache(ctx, stale)
	if _, err := s.Authenticate(ctx, token); err != ErrLoginRequired {
		t.Fatalf("after log-out and a late cache fill: %v, want ErrLoginRequired", err)
	}
	ttl, err := rdb.TTL(ctx, cacheKey(stale.ID)).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("tombstone TTL = %v, %v; want the token's remaining life", ttl, err)
	}
}
