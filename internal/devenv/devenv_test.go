package devenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// TestStartStopKeepsData starts private servers in a fresh folder, writes
// to both, stops them, and starts again on the same folder: the servers
// must be gone after Stop and PostgreSQL's data must survive a restart.
func TestStartStopKeepsData(t *testing.T) {
	dir := t.TempDir()
	// PostgreSQL may run as another user (under root): let it reach the folder.
	for d := dir; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	svc, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, svc.DatabaseURL)
	if err != nil {
		svc.Stop()
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`)
	conn.Close(ctx)
	if err != nil {
		svc.Stop()
		t.Fatal(err)
	}
	opts, _ := redis.ParseURL(svc.RedisURL)
	rdb := redis.NewClient(opts)
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(ctx, Options{Dir: dir, Fast: true}); err == nil || !strings.Contains(err.Error(), "another paylink process") {
		t.Errorf("a second Start on a folder in use: %v; want it refused, the running servers untouched", err)
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Errorf("Redis after a refused second Start: %v", err)
	}
	svc.Stop()
	if err := rdb.Ping(ctx).Err(); err == nil {
		t.Error("Redis still answers after Stop")
	}
	rdb.Close()
	if c, err := pgx.Connect(ctx, svc.DatabaseURL); err == nil {
		c.Close(ctx)
		t.Error("PostgreSQL still answers after Stop")
	}

	again, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop()
	conn, err = pgx.Connect(ctx, again.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != "still here" {
		t.Fatalf("after restart: %q, %v; want the row written before", v, err)
	}
}
