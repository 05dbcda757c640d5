package notify

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/smtpsink"
)

// sendOne queues one e-mail and runs its task through s.
func sendOne(t *testing.T, s *Sender) error {
	t.Helper()
	queueEmails(t, s.db, Email{To: "ada@example.test", Subject: "Receipt", Text: "Thank you."})
	q := &queue{}
	if n, err := s.Relay(context.Background(), q, 10); n != 1 || err != nil {
		t.Fatalf("Relay = %d, %v", n, err)
	}
	for id := range q.ids {
		return s.Send(context.Background(), id, false)
	}
	return nil
}

// Implicit TLS (port 465) and STARTTLS both carry the message encrypted,
// with the certificate checked and the configured EHLO name; a server
// that does not offer STARTTLS gets nothing when it is required.
func TestSMTPOverTLS(t *testing.T) {
	t.Parallel()
	serverTLS, roots, err := smtpsink.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	from, _ := mail.ParseAddress("Paylink <receipts@paylink.test>")
	for _, tc := range []struct {
		name     string
		mode     string
		sink     func(func(smtpsink.Message) error) (*smtpsink.Server, error)
		wantSent bool
		wantErr  string
	}{
		{"implicit", TLSImplicit, func(h func(smtpsink.Message) error) (*smtpsink.Server, error) {
			return smtpsink.ListenTLS("127.0.0.1:0", serverTLS, true, h)
		}, true, ""},
		{"starttls", TLSStartTLS, func(h func(smtpsink.Message) error) (*smtpsink.Server, error) {
			return smtpsink.ListenTLS("127.0.0.1:0", serverTLS, false, h)
		}, true, ""},
		{"auto upgrades", TLSAuto, func(h func(smtpsink.Message) error) (*smtpsink.Server, error) {
			return smtpsink.ListenTLS("127.0.0.1:0", serverTLS, false, h)
		}, true, ""},
		{"starttls refused", TLSStartTLS, func(h func(smtpsink.Message) error) (*smtpsink.Server, error) {
			return smtpsink.Listen("127.0.0.1:0", h)
		}, false, "does not offer STARTTLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			handle, inbox := smtpsink.Chan(4)
			sink, err := tc.sink(handle)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sink.Close() })
			db := pgtest.New(t)
			s := NewSender(db, SMTP{Host: "127.0.0.1", Port: sink.Addr().Port, TLS: tc.mode, Helo: "mx.pay.shop.test",
				From: from, Timeout: 30 * time.Second, RootCAs: roots}, time.Now)
			err = sendOne(t, s)
			if !tc.wantSent {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Send = %v, want an error with %q", err, tc.wantErr)
				}
				if n := len(inbox); n != 0 {
					t.Fatalf("%d messages reached a server without TLS", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-inbox:
				if !m.TLS || m.Helo != "mx.pay.shop.test" || !strings.Contains(string(m.Data), "Thank you.") {
					t.Fatalf("message over TLS %v, EHLO %q: %s", m.TLS, m.Helo, m.Data)
				}
			case <-time.After(time.Minute):
				t.Fatal("the sink got no e-mail within a minute")
			}
		})
	}
	// A certificate nobody vouches for is refused.
	handle, inbox := smtpsink.Chan(1)
	sink, err := smtpsink.ListenTLS("127.0.0.1:0", serverTLS, true, handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	s := NewSender(pgtest.New(t), SMTP{Host: "127.0.0.1", Port: sink.Addr().Port, TLS: TLSImplicit, From: from,
		Timeout: 30 * time.Second}, time.Now)
	if err := sendOne(t, s); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Send to an unknown certificate = %v", err)
	}
	if len(inbox) != 0 {
		t.Fatal("a message went to a server with an untrusted certificate")
	}
}
