package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/smtpsink"
)

// TestSealedEmailKeepsItsLinkOutOfTheOutbox: an e-mail queued sealed
// stores no byte of its text in the clear, a Sender with the keys sends
// the text as written, and one without them gives the e-mail up instead
// of sending it empty.
func TestSealedEmailKeepsItsLinkOutOfTheOutbox(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	keys, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	const token = "rst_Zm9vYmFyYmF6cXV4LXNlY3JldC10b2tlbg"
	text := "Open https://pay.test/dashboard/password/reset?token=" + token + " within 1 hour.\n"
	queue := func() string {
		t.Helper()
		err := db.WithTx(ctx, func(tx pgx.Tx) error {
			return QueueSealed(ctx, tx, keys, Email{To: "ada@example.test", Subject: "Reset your password", Text: text}, time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		var id string
		if err := db.Pool.QueryRow(ctx, `SELECT id FROM emails ORDER BY id DESC LIMIT 1`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	id := queue()
	var row string
	if err := db.Pool.QueryRow(ctx, `SELECT e::text FROM emails e WHERE id = $1`, id).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, token) || strings.Contains(row, "reset?token") {
		t.Fatalf("the outbox row holds the link in the clear: %s", row)
	}
	if err := db.WithTx(ctx, func(tx pgx.Tx) error {
		return QueueSealed(ctx, tx, keys, Email{To: "ada@example.test", Subject: "x", Text: "x", HTML: "<p>x</p>"}, time.Now())
	}); err == nil {
		t.Fatal("a sealed e-mail with an HTML part was queued")
	}

	received := make(chan smtpsink.Message, 1)
	sink, err := smtpsink.Listen("127.0.0.1:0", func(m smtpsink.Message) error { received <- m; return nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	from, _ := mail.ParseAddress("Paylink <accounts@paylink.test>")
	smtp := SMTP{Host: "127.0.0.1", Port: sink.Addr().Port, From: from, Timeout: time.Minute}
	if err := NewSender(db, smtp, time.Now).WithKeys(keys).Send(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	m := <-received
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	sent, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil || !bytes.Contains(sent, []byte(strings.TrimSpace(text))) {
		t.Fatalf("the sent message lacks the text (%v):\n%s", err, m.Data)
	}

	// A composed e-mail: its HTML part's data is sealed with the text, and
	// rendered when sent.
	composed := WalletPasswordReset("ada@example.test", "Ada", "https://pay.test/wallet/password/reset#token="+token, time.Now())
	if err := db.WithTx(ctx, func(tx pgx.Tx) error { return QueueSealed(ctx, tx, keys, composed, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT id, e::text FROM emails e ORDER BY id DESC LIMIT 1`).Scan(&id, &row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, token) {
		t.Fatalf("the outbox row holds the composed e-mail's link in the clear: %s", row)
	}
	if err := NewSender(db, smtp, time.Now).WithKeys(keys).Send(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if kinds := partKinds(t, <-received); fmt.Sprint(kinds) != "[text/plain; charset=utf-8 text/html; charset=utf-8]" {
		t.Fatalf("parts of the sealed composed e-mail: %v; want text then HTML", kinds)
	}

	keyless := queue()
	if err := NewSender(db, smtp, time.Now).Send(ctx, keyless, false); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("a sender without keys: %v; want ErrGaveUp", err)
	}
	var failed bool
	if err := db.Pool.QueryRow(ctx, `SELECT failed_at IS NOT NULL FROM emails WHERE id = $1`, keyless).Scan(&failed); err != nil || !failed {
		t.Fatalf("failed_at set: %t, %v; want the e-mail given up", failed, err)
	}
	if n := len(received); n != 0 {
		t.Fatal("a sender without keys sent the sealed e-mail")
	}
}
