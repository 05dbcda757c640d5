package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/redistest"
)

// enqueueOne puts a task in the webhooks queue of redisURL.
func enqueueOne(t *testing.T, redisURL string) {
	t.Helper()
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := asynq.NewClient(opt)
	defer c.Close()
	if _, err := c.Enqueue(asynq.NewTask("webhook:deliver", []byte(`{}`)), asynq.Queue("webhooks")); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsIncludeAsynqQueues: /metrics of `paylink api`, on its metrics
// address, reports the Asynq queues read from Redis.
func TestMetricsIncludeAsynqQueues(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := redistest.New(t)
	enqueueOne(t, redisURL)
	logs := &lineWatcher{re: regexp.MustCompile(`"msg":"metrics listening","addr":"([^"]+)"`), found: make(chan string, 1)}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"api"}, getenvFrom(map[string]string{
			"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "PAYLINK_ENCRYPTION_KEYS": testKeys, "PAYLINK_ADDR": "127.0.0.1:0",
			"PAYLINK_METRICS_ADDR": "127.0.0.1:0",
		}), io.Discard, logs)
	}()
	defer func() {
		stop()
		if err := within(t, done, "return from run after stop"); err != nil {
			t.Errorf("api: %v", err)
		}
	}()
	addr := started(t, logs, done)
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{`asynq_queue_size{queue="webhooks"} 1`, `asynq_tasks_enqueued_total{queue="webhooks",state="pending"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestQueuesCommand(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := redistest.New(t)
	enqueueOne(t, redisURL)
	var out bytes.Buffer
	err := run(context.Background(), []string{"queues", "-dead", "5"}, getenvFrom(map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL}), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"webhooks", "webhook deliveries pending:      0", "e-mails unsent:                  0", "Given up on in webhooks (0 shown)"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`(?m)^\s*webhooks\s+1\s+0\s`).MatchString(text) {
		t.Errorf("no row with 1 pending webhook task:\n%s", text)
	}
	if err := run(context.Background(), []string{"queues"}, getenvFrom(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("queues without DATABASE_URL succeeded")
	}
}
