package riskmodel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/riskmodel"
	"github.com/paylink/paylink/internal/testclock"
	"github.com/paylink/paylink/internal/waitfor"
)

// While one caller rereads the active model, the others score with the
// copy they have instead of queueing behind the read: under load that
// read waits for a pool connection, and every screening with it.
func TestRereadHoldsNoOneUp(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	clock := testclock.New()
	src := riskmodel.NewSource(db, time.Minute, clock.Now)
	if m, err := src.Current(ctx); err != nil || m.Version != riskmodel.DefaultModel.Version {
		t.Fatalf("first read: %v, %v; want the default model", m.Version, err)
	}

	// The reread will wait on this lock.
	blocker, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback(ctx) //nolint:errcheck // released below; a no-op then
	if _, err := blocker.Exec(ctx, `LOCK TABLE risk_models IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	reread := make(chan error, 1)
	go func() {
		_, err := src.Current(ctx)
		reread <- err
	}()
	waitfor.Until(t, 10*time.Second, "the reread waiting on its lock", func(ctx context.Context) error {
		var waiting int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE NOT granted AND relation = 'risk_models'::regclass`).Scan(&waiting); err != nil {
			return err
		}
		if waiting == 0 {
			return errors.New("no read waits on risk_models yet")
		}
		return nil
	})

	other := make(chan riskmodel.Model, 1)
	go func() {
		m, _ := src.Current(ctx)
		other <- m
	}()
	var got riskmodel.Model
	waitfor.Until(t, 10*time.Second, "another caller answered while the reread waits", func(context.Context) error {
		select {
		case got = <-other:
			return nil
		default:
			return errors.New("it waits too")
		}
	})
	if got.Version != riskmodel.DefaultModel.Version {
		t.Errorf("during the reread: model %q, want the copy read before (%q)", got.Version, riskmodel.DefaultModel.Version)
	}
	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-reread; err != nil {
		t.Fatalf("the reread: %v", err)
	}
}
