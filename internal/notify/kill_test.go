package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/smtpsink"
)

// Environment of a child process that sends one e-mail (see TestMain).
const (
	childDB    = "PAYLINK_TEST_SEND_DB"
	childPort  = "PAYLINK_TEST_SEND_PORT"
	childEmail = "PAYLINK_TEST_SEND_EMAIL"
)

// TestMain runs the test binary as a sending worker when asked to, so a
// test can kill a real process in the middle of Send.
func TestMain(m *testing.M) {
	if url := os.Getenv(childDB); url != "" {
		os.Exit(sendAsChild(url))
	}
	os.Exit(m.Run())
}

// sendAsChild sends the e-mail named in the environment once, like the
// worker's task.
func sendAsChild(url string) int {
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 2)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	port, _ := strconv.Atoi(os.Getenv(childPort))
	from, _ := mail.ParseAddress("Paylink <receipts@paylink.test>")
	s := NewSender(db, SMTP{Host: "127.0.0.1", Port: port, From: from, Timeout: time.Minute}, time.Now)
	if err := s.Send(ctx, os.Getenv(childEmail), false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// A worker killed after the mail server took the message but before
// sent_at was written: the e-mail is not lost (the next run sends it),
// it goes out at most once more (the documented at-least-once window),
// with the same Message-ID so mail systems drop the copy, and after that
// run nothing is ever sent again.
func TestSendKilledBetweenSendAndRecord(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewWithURL(t)
	received := make(chan smtpsink.Message, 10)
	var firstMessage atomic.Bool
	firstMessage.Store(true)
	started := make(chan *exec.Cmd, 1) // the child, once started
	killed := make(chan struct{})
	// The sink holds its "250 queued" until the sending process is dead.
	sink, err := smtpsink.Listen("127.0.0.1:0", func(m smtpsink.Message) error {
		received <- m
		if firstMessage.CompareAndSwap(true, false) {
			_ = (<-started).Process.Kill()
			<-killed
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	e, _ := Failed(Payment{ID: "pay_1", Amount: money.Amount{Minor: 2500, Currency: money.USD}, CustomerEmail: "ada@example.test"}, "Tokyo Tea", "")
	queueEmails(t, db, e)
	var id string
	if err := db.Pool.QueryRow(context.Background(), `SELECT id FROM emails`).Scan(&id); err != nil {
		t.Fatal(err)
	}

	proc := exec.Command(os.Args[0], "-test.run=^$")
	proc.Env = append(os.Environ(), childDB+"="+url, childPort+"="+strconv.Itoa(sink.Addr().Port), childEmail+"="+id)
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	started <- proc
	go func() { _ = proc.Wait(); close(killed) }()
	var first smtpsink.Message
	select {
	case first = <-received:
	case <-time.After(2 * time.Minute):
		t.Fatal("the child sent nothing within two minutes")
	}
	<-killed
	if st := proc.ProcessState; st == nil || st.Success() {
		t.Fatalf("the child was not killed: %v", st)
	}
	var sent *time.Time
	if err := db.Pool.QueryRow(context.Background(), `SELECT sent_at FROM emails WHERE id = $1`, id).Scan(&sent); err != nil || sent != nil {
		t.Fatalf("sent_at = %v, %v after the kill; want unrecorded", sent, err)
	}

	// The task runs again (Asynq retries it, or the sweep re-queues it).
	from, _ := mail.ParseAddress("Paylink <receipts@paylink.test>")
	s := NewSender(db, SMTP{Host: "127.0.0.1", Port: sink.Addr().Port, From: from, Timeout: time.Minute}, time.Now)
	if err := s.Send(context.Background(), id, false); err != nil {
		t.Fatal(err)
	}
	second := <-received
	if msgID(t, first) != msgID(t, second) || msgID(t, first) == "" {
		t.Fatalf("Message-IDs %q and %q; want the same, for receivers to drop the copy", msgID(t, first), msgID(t, second))
	}
	if kinds := partKinds(t, second); fmt.Sprint(kinds) != "[text/plain; charset=utf-8 text/html; charset=utf-8]" {
		t.Fatalf("parts %v; want text then HTML", kinds)
	}
	// The HTML part was stored as the template's data and rendered here.
	if !strings.Contains(string(second.Data), "<!doctype html>") {
		t.Fatalf("no rendered HTML part in:\n%s", second.Data)
	}
	for range 3 {
		if err := s.Send(context.Background(), id, false); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(received); n != 0 {
		t.Fatalf("%d more copies after the e-mail was recorded sent", n)
	}
	if err := db.Pool.QueryRow(context.Background(), `SELECT sent_at FROM emails WHERE id = $1`, id).Scan(&sent); err != nil || sent == nil {
		t.Fatalf("sent_at = %v, %v; want recorded", sent, err)
	}
}

// partKinds lists the Content-Types of m's multipart/alternative parts.
func partKinds(t *testing.T, m smtpsink.Message) []string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	kind, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || kind != "multipart/alternative" {
		t.Fatalf("Content-Type %q, %v", kind, err)
	}
	var out []string
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Header.Get("Content-Type"))
	}
}

// msgID is the Message-ID header of m.
func msgID(t *testing.T, m smtpsink.Message) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	return msg.Header.Get("Message-ID")
}
