package notify

import (
	"context"
	"fmt"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/smtpsink"
)

// keptSender is a Sender to a fresh sink, and the ids of n queued e-mails
// to to0@example.test, to1@example.test, …
func keptSender(t *testing.T, n int) (*Sender, *smtpsink.Server, <-chan smtpsink.Message, []string) {
	t.Helper()
	db := pgtest.New(t)
	handle, inbox := smtpsink.Chan(n)
	sink, err := smtpsink.Listen("127.0.0.1:0", handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	from, _ := mail.ParseAddress("Paylink <receipts@paylink.test>")
	s := NewSender(db, SMTP{Host: "127.0.0.1", Port: sink.Addr().Port, From: from, Timeout: 10 * time.Second}, time.Now)
	es := make([]Email, n)
	for i := range es {
		es[i] = Email{To: fmt.Sprintf("to%d@example.test", i), Subject: "s", Text: "t"}
	}
	queueEmails(t, db, es...)
	rows, err := db.Pool.Query(context.Background(), `SELECT id FROM emails ORDER BY to_addr`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) != n {
		t.Fatalf("%d e-mails queued, want %d", len(ids), n)
	}
	return s, sink, inbox, ids
}

// TestSenderKeepsItsConnection: e-mails sent one after another share one
// connection, each its own mail transaction to its own recipient; when
// the server has dropped the kept connection, the next e-mail goes out
// over a new one rather than failing.
func TestSenderKeepsItsConnection(t *testing.T) {
	t.Parallel()
	s, sink, inbox, ids := keptSender(t, 6)
	ctx := context.Background()
	send := func(i int) {
		t.Helper()
		if err := s.Send(ctx, ids[i], false); err != nil {
			t.Fatalf("e-mail %d: %v", i, err)
		}
		if m := <-inbox; len(m.To) != 1 || m.To[0] != fmt.Sprintf("to%d@example.test", i) {
			t.Fatalf("e-mail %d went to %v", i, m.To)
		}
	}
	for i := range 3 {
		send(i)
	}
	if n := sink.Conns(); n != 1 {
		t.Fatalf("3 e-mails took %d connections, want 1", n)
	}
	sink.Hangup()
	for i := 3; i < 6; i++ {
		send(i)
	}
	if n := sink.Conns(); n != 2 {
		t.Fatalf("after the server hung up, %d connections in all, want 2", n)
	}
}

// TestSenderSendsConcurrently: senders running side by side each take
// their own connection and put it back; every e-mail arrives once, and
// no more connections are opened than senders run at once.
func TestSenderSendsConcurrently(t *testing.T) {
	t.Parallel()
	const senders, each = 4, 5
	s, sink, inbox, ids := keptSender(t, senders*each)
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for _, id := range ids[g*each : (g+1)*each] {
				if err := s.Send(context.Background(), id, false); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for range ids {
		m := <-inbox
		got[m.To[0]]++
	}
	if len(got) != len(ids) {
		t.Fatalf("%d distinct recipients got mail, want %d: %v", len(got), len(ids), got)
	}
	if n := sink.Conns(); n > senders {
		t.Fatalf("%d connections for %d senders", n, senders)
	}
}
