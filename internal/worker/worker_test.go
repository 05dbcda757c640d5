package worker

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
)

// TestShutdownLetsRunningTasksFinish stops the worker while a task runs:
// the task must finish and be recorded as completed, not cut off and not
// handed to another worker to run twice.
func TestShutdownLetsRunningTasksFinish(t *testing.T) {
	db := pgtest.New(t)
	_, url := redistest.New(t)
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		t.Fatal(err)
	}
	d, err := workerDeps(db, url, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	d.ShutdownTimeout = time.Minute
	w, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	started, release, finished := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	w.mux.HandleFunc("test:block", func(ctx context.Context, _ *asynq.Task) error {
		close(started)
		<-release
		finished <- ctx.Err()
		return nil
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	client := asynq.NewClient(opt)
	defer client.Close()
	info, err := client.Enqueue(asynq.NewTask("test:block", nil), asynq.Retention(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	within(t, started, "start of the task")
	stop() // SIGTERM while the task runs
	close(release)
	if err := within(t, finished, "end of the task"); err != nil {
		t.Errorf("task context ended early during graceful shutdown: %v", err)
	}
	if err := within(t, done, "return from Run after shutdown"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	got, err := insp.GetTaskInfo(info.Queue, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != asynq.TaskStateCompleted {
		t.Fatalf("task state after shutdown = %v, want completed", got.State)
	}
}

func TestIdempotencyCleanupTask(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	for _, age := range []string{"72 hours", "47 hours", "1 minute"} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, status, sealed, created_at)
			VALUES ('mer_x', $1::text, 201, '\x00', now() - $1::text::interval)`, age); err != nil {
			t.Fatal(err)
		}
	}
	// Two secret-bearing answers: one past the hour its secret may be
	// replayed, one within it.
	keyring, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	store := idempotency.NewStore(keyring)
	fp := idempotency.Fingerprint("POST", "/v1/api_keys", nil)
	for key, age := range map[string]time.Duration{"2 hours": 2 * time.Hour, "10 minutes": 10 * time.Minute} {
		err := db.WithTx(ctx, func(tx pgx.Tx) error {
			return store.Save(ctx, tx, idempotency.Request{Scope: "mer_s", Key: key, Fingerprint: fp},
				idempotency.Response{Status: 201, Body: []byte(`{"secret":"sk_test_x"}`), Redacted: []byte(`{}`)}, time.Now().Add(-age))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	w := &Worker{d: Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db,
		IdempotencyRetention: 48 * time.Hour, Now: time.Now, Idempotency: store}}
	if err := w.cleanIdempotency(ctx, asynq.NewTask(TypeIdempotencyCleanup, nil)); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"2 hours": `{}`, "10 minutes": `{"secret":"sk_test_x"}`} {
		var got *idempotency.Response
		err := db.WithTx(ctx, func(tx pgx.Tx) error {
			// Asked as of the record's own time: only what is stored counts.
			var err error
			got, err = store.Begin(ctx, tx, idempotency.Request{Scope: "mer_s", Key: key, Fingerprint: fp}, time.Now().Add(-3*time.Hour))
			return err
		})
		if err != nil || got == nil || string(got.Body) != want {
			t.Errorf("%s old answer after the clean-up = %+v, %v; want %s", key, got, err, want)
		}
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = 'mer_s'`); err != nil {
		t.Fatal(err)
	}
	var keys []string
	rows, err := db.Pool.Query(ctx, `SELECT key FROM idempotency_keys ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil || len(keys) != 2 || keys[0] != "1 minute" || keys[1] != "47 hours" {
		t.Fatalf("keys left = %v (%v); want the two younger than 48 hours", keys, err)
	}
}
