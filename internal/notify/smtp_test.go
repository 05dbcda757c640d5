package notify

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/smtpsink"
)

// queue is a fake task queue refusing duplicate ids, as Asynq does.
type queue struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (q *queue) EnqueueEmail(_ context.Context, id string) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ids == nil {
		q.ids = map[string]bool{}
	}
	if q.ids[id] {
		return false, nil
	}
	q.ids[id] = true
	return true, nil
}

func setup(t *testing.T, handle func(smtpsink.Message) error) (*postgres.DB, *Sender) {
	t.Helper()
	db := pgtest.New(t)
	sink, err := smtpsink.Listen("127.0.0.1:0", handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	from, _ := mail.ParseAddress("Paylink Receipts <receipts@paylink.test>")
	return db, NewSender(db, SMTP{Host: "127.0.0.1", Port: sink.Addr().Port, From: from, Timeout: 10 * time.Second}, time.Now)
}

func queueEmails(t *testing.T, db *postgres.DB, es ...Email) {
	t.Helper()
	err := db.WithTx(context.Background(), func(tx pgx.Tx) error {
		for _, e := range es {
			if err := Queue(context.Background(), tx, e, time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSendOverSMTP: a queued e-mail is relayed once and sent once, as a
// well-formed UTF-8 message.
func TestSendOverSMTP(t *testing.T) {
	t.Parallel()
	handle, inbox := smtpsink.Chan(10)
	db, s := setup(t, handle)
	ctx := context.Background()
	queueEmails(t, db, Email{To: "zoe@example.test", Subject: "Reçu: 25,00 €", Text: "Bonjour Zoë,\nMerci.\n.\nA line of dots stays."})
	q := &queue{}
	if n, err := s.Relay(ctx, q, 10); n != 1 || err != nil {
		t.Fatalf("Relay = %d, %v", n, err)
	}
	if n, _ := s.Relay(ctx, q, 10); n != 0 {
		t.Fatalf("second Relay handed over %d", n)
	}
	var id string
	for id = range q.ids {
	}
	if err := s.Send(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	var m smtpsink.Message
	select {
	case m = <-inbox:
	case <-time.After(time.Minute):
		t.Fatal("the sink got no e-mail within a minute")
	}
	if m.From != "receipts@paylink.test" || len(m.To) != 1 || m.To[0] != "zoe@example.test" {
		t.Fatalf("envelope %s -> %v", m.From, m.To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if subject != "Reçu: 25,00 €" || msg.Header.Get("Message-ID") != "<"+id+"@paylink.test>" ||
		!strings.Contains(string(body), "Bonjour Zoë,\nMerci.\n.\nA line of dots stays.") {
		t.Fatalf("message: subject %q, id %q, body %q", subject, msg.Header.Get("Message-ID"), body)
	}
	// Sent is sent: another run of the task sends nothing.
	if err := s.Send(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	select {
	case extra := <-inbox:
		t.Fatalf("sent twice: %s", extra.Data)
	default:
	}
	var sent *time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT sent_at FROM emails WHERE id = $1`, id).Scan(&sent); err != nil || sent == nil {
		t.Fatalf("sent_at = %v, %v", sent, err)
	}
}

// TestRefusedMailIsRetriedThenGivenUp: a temporary refusal is recorded and
// retried; on the last try the e-mail is marked failed.
func TestRefusedMailIsRetriedThenGivenUp(t *testing.T) {
	t.Parallel()
	db, s := setup(t, func(smtpsink.Message) error { return errors.New("disk full") })
	ctx := context.Background()
	queueEmails(t, db, Email{To: "a@example.test", Subject: "s", Text: "t"})
	var id string
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM emails`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	err := s.Send(ctx, id, false)
	if err == nil || errors.Is(err, ErrGaveUp) || !strings.Contains(err.Error(), "451") {
		t.Fatalf("Send = %v; want a retryable 451", err)
	}
	if err := s.Send(ctx, id, true); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("last Send = %v; want ErrGaveUp", err)
	}
	var (
		attempts int
		failed   *time.Time
		lastErr  string
	)
	if err := db.Pool.QueryRow(ctx, `SELECT attempts, failed_at, last_error FROM emails`).Scan(&attempts, &failed, &lastErr); err != nil {
		t.Fatal(err)
	}
	if attempts != 2 || failed == nil || !strings.Contains(lastErr, "451") {
		t.Fatalf("attempts %d, failed_at %v, last_error %q", attempts, failed, lastErr)
	}
}

// TestMailItCannotRenderIsGivenUp: an e-mail whose stored HTML part this
// version cannot render (a template it lacks) is marked failed on its
// first try, not retried, and nothing is sent.
func TestMailItCannotRenderIsGivenUp(t *testing.T) {
	t.Parallel()
	sent := make(chan smtpsink.Message, 1)
	db, s := setup(t, func(m smtpsink.Message) error { sent <- m; return nil })
	ctx := context.Background()
	queueEmails(t, db, Email{To: "a@example.test", Subject: "s", Text: "t", html: []byte(`{"template":"gone","data":{}}`)})
	var id string
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM emails`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, id, false); !errors.Is(err, ErrGaveUp) || !strings.Contains(err.Error(), `"gone"`) {
		t.Fatalf("Send = %v; want ErrGaveUp naming the template", err)
	}
	var failed *time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT failed_at FROM emails`).Scan(&failed); err != nil || failed == nil || len(sent) != 0 {
		t.Fatalf("failed_at %v (%v), %d sent; want given up, none sent", failed, err, len(sent))
	}
}

func TestQueueOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	var first, second bool
	err := db.WithTx(ctx, func(tx pgx.Tx) (err error) {
		e := Email{To: "a@example.test", Subject: "receipt", Text: "t"}
		if first, err = QueueOnce(ctx, tx, "receipt:pay_1", e, time.Now()); err != nil {
			return err
		}
		second, err = QueueOnce(ctx, tx, "receipt:pay_1", e, time.Now())
		return err
	})
	var n int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM emails`).Scan(&n)
	if err != nil || !first || second || n != 1 {
		t.Fatalf("QueueOnce twice = %v, %v (%v); %d rows; want one row", first, second, err, n)
	}
}

// TestSweepRequeuesLostEmails: e-mails handed to a queue that then lost
// them are handed over again; sent ones are not.
func TestSweepRequeuesLostEmails(t *testing.T) {
	t.Parallel()
	handle, inbox := smtpsink.Chan(10)
	db, s := setup(t, handle)
	ctx := context.Background()
	queueEmails(t, db, Email{To: "a@example.test", Subject: "one", Text: "1"}, Email{To: "b@example.test", Subject: "two", Text: "2"})
	q := &queue{}
	if n, err := s.Relay(ctx, q, 10); n != 2 || err != nil {
		t.Fatalf("Relay = %d, %v", n, err)
	}
	var sentID string
	for id := range q.ids {
		sentID = id
		break
	}
	if err := s.Send(ctx, sentID, false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inbox:
	case <-time.After(time.Minute):
		t.Fatal("the sink got no e-mail within a minute")
	}
	if n, err := s.Sweep(ctx, q, 0); n != 0 || err != nil {
		t.Fatalf("Sweep with nothing lost = %d, %v", n, err)
	}
	q.ids = nil // Redis flushed
	if n, err := s.Sweep(ctx, q, 0); n != 1 || err != nil || q.ids[sentID] {
		t.Fatalf("Sweep after the flush = %d, %v, queue %v; want only the unsent e-mail", n, err, q.ids)
	}
}
