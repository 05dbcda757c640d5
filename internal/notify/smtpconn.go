package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"time"
)

// A Sender keeps up to maxIdleConns connections to the mail server open
// between messages, each for at most idleFor, so a busy worker neither
// dials nor, with TLS, shakes hands for every e-mail. Servers commonly
// drop a client idle for a minute or more.
const (
	maxIdleConns = 8
	idleFor      = 30 * time.Second
)

// smtpConn is an open, greeted (and, as configured, secured and
// authenticated) conversation with the mail server.
type smtpConn struct {
	conn net.Conn
	c    *smtp.Client
	idle time.Time // when it was last put back
}

// errStale marks a kept connection that failed before a message was
// started on it: the server had closed it, and a new one may be dialled.
var errStale = errors.New("kept SMTP connection no longer answers")

// deliver sends msg to one recipient over a kept connection, or a new one
// (TLS as configured, EHLO with the configured name, AUTH when
// configured). A kept connection that no longer answers is replaced once.
func (s *Sender) deliver(ctx context.Context, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.smtp.Timeout)
	defer cancel()
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return err
	}
	for {
		sc, kept := s.take()
		if sc == nil {
			if sc, err = s.dial(ctx); err != nil {
				return err
			}
		}
		deadline, _ := ctx.Deadline()
		_ = sc.conn.SetDeadline(deadline)
		err = s.send(sc, rcpt.Address, msg, kept)
		if err == nil {
			s.keep(sc)
			return nil
		}
		sc.conn.Close()
		if !errors.Is(err, errStale) {
			return err
		}
	}
}

// send runs one mail transaction on sc. On a kept connection it first
// resets the last one (RSET), which also shows the server still answers.
func (s *Sender) send(sc *smtpConn, rcpt string, msg []byte, kept bool) error {
	if kept {
		if err := sc.c.Reset(); err != nil {
			return fmt.Errorf("%w: %w", errStale, err)
		}
	}
	if err := sc.c.Mail(s.smtp.From.Address); err != nil {
		return err
	}
	if err := sc.c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := sc.c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}

// take returns a kept connection, closing those kept too long, or nil.
func (s *Sender) take() (*smtpConn, bool) {
	for {
		select {
		case sc := <-s.idle:
			if time.Since(sc.idle) < idleFor {
				return sc, true
			}
			sc.quit()
		default:
			return nil, false
		}
	}
}

// keep puts sc back for the next message, or ends it when enough are
// kept.
func (s *Sender) keep(sc *smtpConn) {
	sc.idle = time.Now()
	select {
	case s.idle <- sc:
	default:
		sc.quit()
	}
}

// quit ends sc politely, within a second.
func (sc *smtpConn) quit() {
	_ = sc.conn.SetDeadline(time.Now().Add(time.Second))
	_ = sc.c.Quit()
	sc.conn.Close()
}

// dial opens a conversation with the mail server: TLS from the first
// byte or STARTTLS as configured, EHLO with the configured name, AUTH
// when configured.
func (s *Sender) dial(ctx context.Context) (*smtpConn, error) {
	addr := net.JoinHostPort(s.smtp.Host, strconv.Itoa(s.smtp.Port))
	tlsConfig := &tls.Config{ServerName: s.smtp.Host, MinVersion: tls.VersionTLS12, RootCAs: s.smtp.RootCAs}
	var (
		conn net.Conn
		err  error
	)
	if s.smtp.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := s.greet(conn, addr, tlsConfig)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &smtpConn{conn: conn, c: c}, nil
}

// greet says EHLO on conn, starts TLS and authenticates as configured.
func (s *Sender) greet(conn net.Conn, addr string, tlsConfig *tls.Config) (*smtp.Client, error) {
	c, err := smtp.NewClient(conn, s.smtp.Host)
	if err != nil {
		return nil, err
	}
	if s.smtp.Helo != "" {
		if err := c.Hello(s.smtp.Helo); err != nil {
			return nil, err
		}
	}
	switch offered, _ := c.Extension("STARTTLS"); {
	case s.smtp.TLS == TLSImplicit || s.smtp.TLS == TLSNone:
	case offered:
		if err := c.StartTLS(tlsConfig); err != nil {
			return nil, err
		}
	case s.smtp.TLS == TLSStartTLS:
		return nil, fmt.Errorf("%s does not offer STARTTLS, which PAYLINK_SMTP_TLS=starttls requires", addr)
	}
	if s.smtp.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.smtp.Username, s.smtp.Password, s.smtp.Host)); err != nil {
			return nil, err
		}
	}
	return c, nil
}
