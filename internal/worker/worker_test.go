package worker

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
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
	w := &Worker{d: Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db,
		IdempotencyRetention: 48 * time.Hour, Now: time.Now}}
	if err := w.cleanIdempotency(ctx, asynq.NewTask(TypeIdempotencyCleanup, nil)); err != nil {
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
