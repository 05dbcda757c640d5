package notify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
)

// ErrGaveUp wraps the error of an e-mail that will never be sent (the
// server refused it for good, or the last retry failed): it must not be
// retried.
var ErrGaveUp = errors.New("e-mail given up")

// SMTP is how to reach the mail server. An empty Host turns sending off:
// messages stay queued until a server is configured.
type SMTP struct {
	Host     string
	Port     int
	TLS      string // TLSAuto (""), TLSStartTLS, TLSImplicit or TLSNone
	Helo     string // the name given in EHLO; "" is "localhost"
	Username string // with Password, authenticate (PLAIN, only over TLS or to localhost)
	Password string
	From     *mail.Address
	Timeout  time.Duration // sending one message, dialling included when no connection is kept
	// RootCAs verifies the server's certificate; nil is the system's.
	RootCAs *x509.CertPool
}

// How the conversation with the mail server is protected.
const (
	TLSAuto     = "auto"     // STARTTLS when the server offers it
	TLSStartTLS = "starttls" // STARTTLS or nothing is sent (port 587)
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
	TLSNone     = "none"     // plain text (a local relay)
)

// Enqueuer hands e-mails to the task queue. EnqueueEmail must be
// idempotent per e-mail id: it reports false, nil when the task is already
// queued or running.
type Enqueuer interface {
	EnqueueEmail(ctx context.Context, emailID string) (bool, error)
}

// Sender relays the e-mail outbox to the task queue and sends messages,
// over connections it keeps open between them (deliver).
type Sender struct {
	db   *postgres.DB
	smtp SMTP
	keys *seal.Keyring // opens QueueSealed's e-mails
	now  func() time.Time
	idle chan *smtpConn
}

// NewSender returns a Sender using the mail server smtp.
func NewSender(db *postgres.DB, smtp SMTP, now func() time.Time) *Sender {
	return &Sender{db: db, smtp: smtp, now: now, idle: make(chan *smtpConn, maxIdleConns)}
}

// WithKeys lets s send the e-mails QueueSealed sealed under keys; without
// them such an e-mail is given up on.
func (s *Sender) WithKeys(keys *seal.Keyring) *Sender {
	s.keys = keys
	return s
}

// Enabled reports whether a mail server is configured.
func (s *Sender) Enabled() bool { return s.smtp.Host != "" }

// Relay hands up to limit queued e-mails not yet given to the task queue
// to q and marks them handed over (SKIP LOCKED, so workers relay side by
// side; a repeated hand-over is ignored by q). It returns how many.
func (s *Sender) Relay(ctx context.Context, q Enqueuer, limit int) (int, error) {
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("relay e-mails: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after commit
	rows, err := tx.Query(ctx, selectUnrelayed, limit)
	if err != nil {
		return 0, fmt.Errorf("relay e-mails: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("relay e-mails: %w", err)
	}
	done := make([]string, 0, len(ids))
	var enqErr error
	for _, id := range ids {
		if _, enqErr = q.EnqueueEmail(ctx, id); enqErr != nil {
			break
		}
		done = append(done, id)
	}
	if len(done) == 0 {
		return 0, enqErr
	}
	if _, err := tx.Exec(ctx, markRelayed, done, s.now()); err != nil {
		return 0, fmt.Errorf("mark e-mails relayed: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("mark e-mails relayed: %w", err)
	}
	return len(done), enqErr
}

// Sweep hands over again the unsent e-mails handed to the task queue more
// than grace ago; q ignores those still queued, so only tasks lost from
// Redis come back. It returns how many were queued again.
func (s *Sender) Sweep(ctx context.Context, q Enqueuer, grace time.Duration) (int, error) {
	const batch = 500
	var (
		requeued int
		after    string
	)
	for {
		rows, err := s.db.Pool.Query(ctx, selectStale, s.now().Add(-grace), after, batch)
		if err != nil {
			return requeued, fmt.Errorf("sweep e-mails: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return requeued, fmt.Errorf("sweep e-mails: %w", err)
		}
		for _, id := range ids {
			again, err := q.EnqueueEmail(ctx, id)
			if err != nil {
				return requeued, err
			}
			if again {
				requeued++
			}
			after = id
		}
		if len(ids) < batch {
			return requeued, nil
		}
	}
}

// Send sends e-mail emailID and records the outcome. last says this is the
// final try the task queue will make. It returns nil when the message was
// sent (or already was), an error wrapping ErrGaveUp when it never will
// be, and any other error to be retried.
func (s *Sender) Send(ctx context.Context, emailID string, last bool) error {
	e, created, done, err := read(ctx, s.db.Pool, emailID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("e-mail %s does not exist: %w", emailID, ErrGaveUp)
	case err != nil:
		return err
	case done:
		return nil
	case !s.Enabled():
		return errors.New("no SMTP server configured (PAYLINK_SMTP_HOST)")
	}
	e, err = e.opened(s.keys, emailID)
	if err == nil {
		e, err = e.Rendered()
	}
	var msg []byte
	if err == nil {
		msg, err = s.message(emailID, e, created)
	}
	if err != nil {
		// A message that cannot be written (a bad address, a template
		// this version lacks, a sealed text without its key) never will
		// be.
		if _, dbErr := s.db.Pool.Exec(ctx, markFailed, emailID, s.now(), err.Error()); dbErr != nil {
			return dbErr
		}
		return fmt.Errorf("e-mail %s: %w: %w", emailID, err, ErrGaveUp)
	}
	sendErr := s.deliver(ctx, e.To, msg)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var tpErr *textproto.Error
	switch {
	case sendErr == nil:
		_, err = s.db.Pool.Exec(rctx, markSent, emailID, s.now())
		return err
	case errors.As(sendErr, &tpErr) && tpErr.Code >= 500, last:
		if _, err := s.db.Pool.Exec(rctx, markFailed, emailID, s.now(), sendErr.Error()); err != nil {
			return err
		}
		return fmt.Errorf("send e-mail %s: %w: %w", emailID, sendErr, ErrGaveUp)
	}
	if _, err := s.db.Pool.Exec(rctx, markAttemptFailed, emailID, sendErr.Error()); err != nil {
		return err
	}
	return fmt.Errorf("send e-mail %s: %w", emailID, sendErr)
}

// Read returns e-mail emailID as it will be sent, its HTML part
// rendered; pgx.ErrNoRows when there is no such e-mail. A sealed e-mail
// (QueueSealed) stays without its content: Read has no keys.
func Read(ctx context.Context, db postgres.DBTX, emailID string) (Email, error) {
	e, _, _, err := read(ctx, db, emailID)
	if err != nil {
		return e, err
	}
	return e.Rendered()
}

// read returns e-mail emailID as stored, when it was made and whether it
// was sent or given up on.
func read(ctx context.Context, db postgres.DBTX, emailID string) (e Email, created time.Time, done bool, err error) {
	err = db.QueryRow(ctx, selectEmail, emailID).Scan(&e.To, &e.Subject, &e.Text, &e.HTML, &e.html, &e.sealed, &created, &done)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("read e-mail %s: %w", emailID, err)
	}
	return e, created, done, err
}

// opened returns e with its sealed content (QueueSealed) opened under
// keys.
func (e Email) opened(keys *seal.Keyring, emailID string) (Email, error) {
	if e.sealed == nil {
		return e, nil
	}
	if keys == nil {
		return e, errors.New("sealed e-mail, and this sender has no keys")
	}
	content, err := keys.Open(e.sealed, []byte(emailID))
	if err != nil {
		return e, fmt.Errorf("open sealed e-mail: %w", err)
	}
	var c sealedContent
	if err := json.Unmarshal(content, &c); err != nil {
		return e, fmt.Errorf("open sealed e-mail: %w", err)
	}
	e.Text, e.html, e.sealed = c.Text, []byte(c.HTML), nil
	if len(c.HTML) == 0 {
		e.html = nil
	}
	return e, nil
}

// message writes e as an RFC 5322 message: UTF-8 text, quoted-printable,
// with a Message-ID derived from its id so receivers can drop a copy sent
// twice.
func (s *Sender) message(emailID string, e Email, created time.Time) ([]byte, error) {
	to, err := mail.ParseAddress(e.To)
	if err != nil {
		return nil, fmt.Errorf("recipient %q: %w", e.To, err)
	}
	domain := "paylink.invalid"
	if at := strings.LastIndexByte(s.smtp.From.Address, '@'); at >= 0 {
		domain = s.smtp.From.Address[at+1:]
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", s.smtp.From.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", e.Subject))
	header("Date", created.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+emailID+"@"+domain+">")
	header("MIME-Version", "1.0")
	if e.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, e.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	// multipart/alternative: plain text first, HTML preferred by readers
	// that show it. The boundary derives from the id and cannot occur in
	// quoted-printable lines, which never start with "--=_".
	boundary := "=_paylink_" + emailID
	header("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ kind, body string }{{"text/plain", e.Text}, {"text/html", e.HTML}} {
		b.WriteString("--" + boundary + "\r\n")
		header("Content-Type", part.kind+"; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, part.body); err != nil {
			return nil, err
		}
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// writeQP appends text to b, quoted-printable.
func writeQP(b *bytes.Buffer, text string) error {
	qp := quotedprintable.NewWriter(b)
	if _, err := qp.Write([]byte(text)); err != nil {
		return err
	}
	return qp.Close()
}

// Backlog describes the e-mail outbox for operators.
type Backlog struct {
	Unsent     int        // queued, neither sent nor given up
	Unrelayed  int        // of which not yet handed to the task queue
	OldestOpen *time.Time // when the oldest unsent e-mail was queued
}

// ReadBacklog counts the e-mails still to send.
func ReadBacklog(ctx context.Context, db postgres.DBTX) (Backlog, error) {
	var b Backlog
	if err := db.QueryRow(ctx, backlog).Scan(&b.Unsent, &b.Unrelayed, &b.OldestOpen); err != nil {
		return b, fmt.Errorf("read e-mail backlog: %w", err)
	}
	return b, nil
}
