package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/apperr"
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

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Type      string `json:"type"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"request_id"`
}

// errorResponse turns err into its status and body, logging it when it is
// not an *apperr.Error meant for clients. This is the one place errors are
// logged.
func (s *Server) errorResponse(c *gin.Context, err error) (int, errorBody) {
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
		// The client hung up; nobody reads this answer and nothing failed on
		// our side. 499 (nginx's "client closed request") keeps it apart
		// from real errors in metrics and logs.
		s.log.InfoContext(c.Request.Context(), "client closed request", "request_id", requestID(c),
			"method", c.Request.Method, "route", c.FullPath())
		return statusClientClosed, errorBody{Error: errorDetail{Type: "api_error", Code: "client_closed_request",
			Message: "The client closed the request.", RequestID: requestID(c)}}
	}
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind == apperr.Internal {
		s.log.ErrorContext(c.Request.Context(), "request failed", "err", err, "request_id", requestID(c),
			"method", c.Request.Method, "route", c.FullPath())
		e = errInternal
	}
	return statusByKind[e.Kind], errorBody{Error: errorDetail{
		Type: typeByKind[e.Kind], Code: e.Code, Message: e.Message, Param: e.Param, RequestID: requestID(c),
	}}
}

// writeError renders err as API.md's error body and aborts the chain.
func (s *Server) writeError(c *gin.Context, err error) {
	status, body := s.errorResponse(c, err)
	c.Abort()
	c.PureJSON(status, body)
}

// h adapts a handler that returns an error to gin.
func (s *Server) h(fn func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			s.writeError(c, err)
		}
	}
}
