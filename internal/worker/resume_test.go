package worker

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/cluster"
	"github.com/paylink/paylink/internal/devenv"
	"github.com/paylink/paylink/internal/waitfor"
)

// TestWorkerResumesAfterRedisReturnsEmpty runs a worker on a Redis server
// of its own and kills that server while a delivery is at the receiver;
// it comes back empty (no persistence), as a lost Redis does. The running
// worker carries on by itself: the task Redis lost (its attempt failed,
// so it had a retry to schedule) is found overdue in PostgreSQL by the
// periodic sweep and delivered, and a payment recorded after the loss is
// relayed and delivered.
func TestWorkerResumesAfterRedisReturnsEmpty(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(err)
	}
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	dir := t.TempDir()
	sup := cluster.NewSupervisor(nil, nil)
	t.Cleanup(sup.Stop)
	ping := func(ctx context.Context) error {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		defer c.Close()
		return c.Ping(ctx).Err()
	}
	if _, err := sup.Start(context.Background(), cluster.Spec{Name: "redis", Kind: "redis", Port: port,
		Command: func() *exec.Cmd {
			return exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
				"--save", "", "--appendonly", "no")
		},
		Ready: ping,
	}); err != nil {
		t.Fatal(err)
	}

	h := newHarness(t, 5*time.Second, func(d *Deps) {
		d.Redis = asynq.RedisClientOpt{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second}
		d.OutboxSweep = 200 * time.Millisecond
		d.CheckoutEvery = time.Hour // the harness has no checkout services
	})
	arrived, release := make(chan struct{}), make(chan struct{})
	held := func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		w.WriteHeader(http.StatusInternalServerError)
	}
	srv, _ := receiver(t, held, answer(http.StatusOK))
	h.endpoint(srv.URL)
	h.run(h.newWorker())

	_, lost := h.pay("pay_lost", "Ada Shopper")
	select {
	case <-arrived:
	case <-time.After(time.Minute):
		t.Fatal("the first delivery never reached the receiver")
	}
	if err := sup.Kill("redis"); err != nil {
		t.Fatal(err)
	}
	// Wait for the new, empty server: the supervisor's second start.
	waitfor.Until(t, time.Minute, "Redis started again, empty", func(ctx context.Context) error {
		if infos := sup.Infos(); infos[0].Starts != 2 || infos[0].PID == 0 {
			return fmt.Errorf("supervisor: %+v", infos)
		}
		return ping(ctx)
	})
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	if n, err := c.DBSize(context.Background()).Result(); err != nil || n != 0 {
		t.Fatalf("Redis holds %d keys after the restart (%v); want none", n, err)
	}
	close(release) // the attempt fails; its retry cannot be recorded in the new Redis
	_, after := h.pay("pay_after", "Grace Shopper")

	// Either may finish first: wait on PostgreSQL's record of both.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		a, _ := h.delivery(lost)
		b, _ := h.delivery(after)
		if a != "pending" && b != "pending" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries still pending: lost %s, after %s", a, b)
		}
		select {
		case <-h.finished:
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !strings.Contains(h.logs.String(), "webhook deliveries missing from Redis queued again") {
		t.Error("the sweep did not report queuing again the delivery Redis lost")
	}
	for id, want := range map[string][]int{lost: {500, 200}, after: {200}} {
		if status, codes := h.delivery(id); status != "succeeded" || fmt.Sprint(codes) != fmt.Sprint(want) {
			t.Errorf("delivery %s: %s with %v; want succeeded with %v", id, status, codes, want)
		}
	}
}
