package edge

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/postgres"
)

var statusByKind = map[apperr.Kind]int{
	apperr.Internal:            http.StatusInternalServerError,
	apperr.Invalid:             http.StatusBadRequest,
	apperr.Unauthenticated:     http.StatusUnauthorized,
	apperr.CardDeclined:        http.StatusPaymentRequired,
	apperr.PaymentRequired:     http.StatusPaymentRequired,
	apperr.Forbidden:           http.StatusForbidden,
	apperr.NotFound:            http.StatusNotFound,
	apperr.MethodNotAllowed:    http.StatusMethodNotAllowed,
	apperr.Conflict:            http.StatusConflict,
	apperr.Gone:                http.StatusGone,
	apperr.TooLarge:            http.StatusRequestEntityTooLarge,
	apperr.Unprocessable:       http.StatusUnprocessableEntity,
	apperr.IdempotencyInUse:    http.StatusConflict,
	apperr.IdempotencyMismatch: http.StatusUnprocessableEntity,
	apperr.RateLimited:         http.StatusTooManyRequests,
	apperr.Unavailable:         http.StatusServiceUnavailable,
}

var typeByKind = map[apperr.Kind]string{
	apperr.Internal:            "api_error",
	apperr.Invalid:             "invalid_request_error",
	apperr.Unauthenticated:     "authentication_error",
	apperr.CardDeclined:        "card_error",
	apperr.PaymentRequired:     "invalid_request_error",
	apperr.Forbidden:           "permission_error",
	apperr.NotFound:            "invalid_request_error",
	apperr.MethodNotAllowed:    "invalid_request_error",
	apperr.Conflict:            "invalid_request_error",
	apperr.Gone:                "invalid_request_error",
	apperr.TooLarge:            "invalid_request_error",
	apperr.Unprocessable:       "invalid_request_error",
	apperr.IdempotencyInUse:    "idempotency_error",
	apperr.IdempotencyMismatch: "idempotency_error",
	apperr.RateLimited:         "rate_limit_error",
	apperr.Unavailable:         "api_error",
}

// statusClientClosed is the status recorded for a request whose client
// went away before the answer (nginx's 499).
const statusClientClosed = 499

// errInternal is what every unexpected error becomes on the wire.
var errInternal = &apperr.Error{Kind: apperr.Internal, Code: "internal_error",
	Message: "Something went wrong on our side. Retry later; the request_id identifies it to support."}

// ErrorBody is API.md's error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error inside an ErrorBody.
type ErrorDetail struct {
	Type      string `json:"type"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"request_id"`
}

// ErrorResponse turns err into its status and body, logging it when it is
// not an *apperr.Error meant for clients. This is the one place errors are
// logged.
func (e *Edge) ErrorResponse(c *gin.Context, err error) (int, ErrorBody) {
	ctxErr := c.Request.Context().Err()
	if endedBy(ctxErr, err, context.Canceled) {
		// The client hung up; nobody reads this answer and nothing failed on
		// our side. 499 (nginx's "client closed request") keeps it apart
		// from real errors in metrics and logs.
		e.log.InfoContext(c.Request.Context(), "client closed request", "request_id", RequestID(c),
			"method", c.Request.Method, "route", c.FullPath())
		return statusClientClosed, ErrorBody{Error: ErrorDetail{Type: "api_error", Code: "client_closed_request",
			Message: "The client closed the request.", RequestID: RequestID(c)}}
	}
	var ae *apperr.Error
	switch {
	case errors.As(err, &ae) && ae.Kind != apperr.Internal:
	case endedBy(ctxErr, err, context.DeadlineExceeded):
		e.log.WarnContext(c.Request.Context(), "request timed out", "err", err, "request_id", RequestID(c),
			"method", c.Request.Method, "route", c.FullPath(), "timeout", e.timeout.String())
		ae = errTimedOut
	case postgres.IsUnavailable(err):
		// A failover or a lost database: retryable with the same
		// Idempotency-Key, and a warning rather than an error per request.
		e.log.WarnContext(c.Request.Context(), "database unavailable", "err", err, "request_id", RequestID(c),
			"method", c.Request.Method, "route", c.FullPath())
		ae = errUnavailable
	default:
		e.log.ErrorContext(c.Request.Context(), "request failed", "err", err, "request_id", RequestID(c),
			"method", c.Request.Method, "route", c.FullPath())
		ae = errInternal
	}
	return statusByKind[ae.Kind], ErrorBody{Error: ErrorDetail{
		Type: typeByKind[ae.Kind], Code: ae.Code, Message: ae.Message, Param: ae.Param, RequestID: RequestID(c),
	}}
}

// endedBy reports whether err comes from the request's context ending
// (ctxErr) with cause: context.Canceled when the client hung up,
// context.DeadlineExceeded past RequestTimeout. The error is the cause
// itself, or PostgreSQL cancelling the statement the context was running.
func endedBy(ctxErr, err, cause error) bool {
	return errors.Is(ctxErr, cause) && (errors.Is(err, cause) || postgres.IsCanceled(err))
}

// retryAfter is an error that knows when the client may retry (a lock-out
// or a full queue); WriteError sends it as Retry-After.
type retryAfter interface {
	RetryAfter(now time.Time) time.Duration
}

// errUnavailable is what a request gets when PostgreSQL cannot serve it,
// e.g. during a failover: a 503 to retry after Retry-After.
var errUnavailable = &apperr.Error{Kind: apperr.Unavailable, Code: "service_unavailable",
	Message: "The service is briefly unavailable; retry after the number of seconds in Retry-After, with the same Idempotency-Key."}

// errTimedOut is what a request gets when it outlasts the edge's
// RequestTimeout (a statement waiting on a lock, say): its transaction
// rolled back, so it may be retried with the same Idempotency-Key.
var errTimedOut = &apperr.Error{Kind: apperr.Unavailable, Code: "request_timeout",
	Message: "The request took too long and was stopped. Retry it after the number of seconds in Retry-After, with the same Idempotency-Key: its change is made at most once."}

// RetryAfterUnavailable is the Retry-After of every 503, in seconds: a
// PostgreSQL or Redis failover takes a few seconds.
const RetryAfterUnavailable = "1"

// WriteError renders err as API.md's error body and aborts the chain. A
// 503 carries Retry-After (RetryAfterUnavailable, unless the handler set
// its own).
func (e *Edge) WriteError(c *gin.Context, err error) {
	var ra retryAfter
	if errors.As(err, &ra) {
		c.Header("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(ra.RetryAfter(e.now()).Seconds()))), 10))
	}
	status, body := e.ErrorResponse(c, err)
	if status == http.StatusServiceUnavailable && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", RetryAfterUnavailable)
	}
	c.Abort()
	envelope := e.envelopes[c.Request.URL.Path]
	if r := routeOf(c); r != nil {
		envelope = r.Envelope
	}
	if envelope != nil {
		c.PureJSON(status, envelope(status, body))
		return
	}
	c.PureJSON(status, body)
}

// h adapts a handler that returns an error to gin. Its answers are never
// sniffed, nor cached unless the handler says so: they carry accounts' data.
func (e *Edge) h(fn func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("X-Content-Type-Options", "nosniff")
		c.Header("Cache-Control", "no-store")
		if err := fn(c); err != nil {
			e.WriteError(c, err)
		}
	}
}
