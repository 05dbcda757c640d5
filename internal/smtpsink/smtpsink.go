// Package smtpsink is a small SMTP server that accepts every message and
// hands it to a function instead of delivering it: `paylink dev` writes
// each message to a file so a newcomer can read the receipts, and tests
// receive them on a channel. It speaks just enough SMTP for net/smtp and
// common clients (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, and with
// ListenTLS, STARTTLS or implicit TLS); it has no authentication, so it
// listens on loopback only.
package smtpsink

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxMessage bounds one message's size.
const maxMessage = 10 << 20

// Message is one accepted message: the envelope and the raw RFC 5322 data.
type Message struct {
	From string
	To   []string
	Data []byte
	Helo string // the name the client gave in EHLO or HELO
	TLS  bool   // whether the message came over TLS
}

// Server is a running sink.
type Server struct {
	ln     net.Listener
	handle func(Message) error
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed atomic.Bool
	// accepted counts the connections accepted so far.
	accepted atomic.Int64
	tls      *tls.Config // offered with STARTTLS, unless implicit
	// implicit means the listener speaks TLS from the first byte (465).
	implicit bool
}

// Listen starts a sink on addr (e.g. "127.0.0.1:0") that passes each
// message to handle; an error from handle is answered 451 so the sender
// retries.
func Listen(addr string, handle func(Message) error) (*Server, error) {
	return ListenTLS(addr, nil, false, handle)
}

// ListenTLS is Listen with TLS: cfg is offered with STARTTLS, or with
// implicit set, spoken from the first byte as on port 465. A nil cfg is
// Listen.
func ListenTLS(addr string, cfg *tls.Config, implicit bool, handle func(Message) error) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}
	s := &Server{ln: ln, handle: handle, conns: map[net.Conn]struct{}{}, tls: cfg, implicit: implicit && cfg != nil}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr returns the address the sink listens on.
func (s *Server) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// Conns returns how many connections the sink has accepted.
func (s *Server) Conns() int { return int(s.accepted.Load()) }

// Hangup closes the open connections, as a mail server dropping idle
// clients does, and goes on listening.
func (s *Server) Hangup() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Close stops the sink and waits for its connections to end.
func (s *Server) Close() error {
	s.closed.Store(true)
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed.Load() {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.accepted.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// session runs one SMTP conversation.
func (s *Server) session(c net.Conn) {
	secure := false
	if s.implicit {
		c, secure = tls.Server(c, s.tls), true
	}
	tp := textproto.NewConn(c)
	reply := func(format string, args ...any) bool {
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		return tp.PrintfLine(format, args...) == nil
	}
	if !reply("220 paylink-sink ESMTP ready") {
		return
	}
	var (
		msg  Message
		helo string
	)
	for {
		_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			helo = strings.TrimSpace(arg)
			offer := ""
			if s.tls != nil && !secure {
				offer = "250-STARTTLS\r\n"
			}
			if !reply("250-paylink-sink\r\n%s250-8BITMIME\r\n250 SIZE %d", offer, maxMessage) {
				return
			}
		case "STARTTLS":
			if s.tls == nil || secure {
				if !reply("502 command not implemented") {
					return
				}
				continue
			}
			if !reply("220 ready to start TLS") {
				return
			}
			tc := tls.Server(c, s.tls)
			_ = tc.SetDeadline(time.Now().Add(time.Minute))
			if tc.Handshake() != nil {
				return
			}
			c, secure, tp, msg, helo = tc, true, textproto.NewConn(tc), Message{}, ""
		case "HELO":
			helo = strings.TrimSpace(arg)
			if !reply("250 OK") {
				return
			}
		case "NOOP":
			if !reply("250 OK") {
				return
			}
		case "RSET":
			msg = Message{}
			if !reply("250 OK") {
				return
			}
		case "MAIL":
			msg = Message{From: address(arg, "FROM:")}
			if !reply("250 OK") {
				return
			}
		case "RCPT":
			msg.To = append(msg.To, address(arg, "TO:"))
			if !reply("250 OK") {
				return
			}
		case "DATA":
			if len(msg.To) == 0 {
				if !reply("503 RCPT first") {
					return
				}
				continue
			}
			if !reply("354 End data with <CR><LF>.<CR><LF>") {
				return
			}
			data, err := io.ReadAll(io.LimitReader(tp.DotReader(), maxMessage+1))
			if err != nil {
				return
			}
			if len(data) > maxMessage {
				reply("552 message too large")
				return
			}
			msg.Data, msg.Helo, msg.TLS = data, helo, secure
			if err := s.handle(msg); err != nil {
				if !reply("451 could not store message") {
					return
				}
			} else if !reply("250 OK: queued") {
				return
			}
			msg = Message{}
		case "QUIT":
			reply("221 bye")
			return
		default:
			if !reply("502 command not implemented") {
				return
			}
		}
	}
}

// address reads "FROM:<a@b>" (with optional parameters) as "a@b".
func address(arg, prefix string) string {
	arg = strings.TrimSpace(arg)
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = strings.TrimSpace(arg[len(prefix):])
	}
	if i := strings.IndexByte(arg, '>'); strings.HasPrefix(arg, "<") && i > 0 {
		return arg[1:i]
	}
	addr, _, _ := strings.Cut(arg, " ")
	return addr
}

// Dir returns a handler writing each message to its own file in dir,
// named by arrival time so a listing reads in order.
func Dir(dir string) (func(Message) error, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}
	var n atomic.Int64
	return func(m Message) error {
		name := fmt.Sprintf("%s-%04d.eml", time.Now().UTC().Format("20060102T150405.000000Z"), n.Add(1)%10000)
		tmp := filepath.Join(dir, "."+name+".tmp")
		var b strings.Builder
		fmt.Fprintf(&b, "X-Sink-From: %s\r\nX-Sink-To: %s\r\n", m.From, strings.Join(m.To, ", "))
		b.Write(m.Data)
		if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, filepath.Join(dir, name))
	}, nil
}

// ErrFull is what a Chan handler returns when nobody reads its channel
// fast enough; the sender is told to retry.
var ErrFull = errors.New("smtp sink: channel full")

// Chan returns a handler sending each message on a channel of size n, and
// the channel: what tests wait on.
func Chan(n int) (func(Message) error, <-chan Message) {
	ch := make(chan Message, n)
	return func(m Message) error {
		select {
		case ch <- m:
			return nil
		default:
			return ErrFull
		}
	}, ch
}
