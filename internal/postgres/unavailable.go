package postgres

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable reports whether err says the database could not be used
// right now rather than that the request was wrong: no primary could be
// reached or connected to (the connection was refused, reset or timed
// out, or every host was a standby), the server is shutting down or
// starting (57P01, 57P02, 57P03), the connection was lost (class 08), or
// the session landed on a server that turned read-only (25006). Such a
// request may be retried once a failover is over: whatever it changed
// either committed with its Idempotency-Key record or not at all.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03", pg.Code == "25006", pg.Code == "53300":
			return true
		case len(pg.Code) == 5 && pg.Code[:2] == "08":
			return true
		}
		return false
	}
	var (
		connect *pgconn.ConnectError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &connect), errors.As(err, &netErr):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}
