// Package apperr defines the single error type that reaches API clients.
// Domains declare their errors as *Error values; only httpapi turns them
// into HTTP statuses and bodies.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error; httpapi maps each kind to one HTTP status and
// one error type.
type Kind int

// The kinds of errors a client can see.
const (
	Internal            Kind = iota // 500 api_error: never shown in detail
	Invalid                         // 400 invalid_request_error
	Unauthenticated                 // 401 authentication_error
	CardDeclined                    // 402 card_error
	PaymentRequired                 // 402 invalid_request_error (e.g. insufficient wallet funds)
	Forbidden                       // 403 permission_error
	NotFound                        // 404 invalid_request_error
	MethodNotAllowed                // 405 invalid_request_error
	Conflict                        // 409 invalid_request_error
	Gone                            // 410 invalid_request_error
	TooLarge                        // 413 invalid_request_error
	Unprocessable                   // 422 invalid_request_error
	IdempotencyInUse                // 409 idempotency_error
	IdempotencyMismatch             // 422 idempotency_error
	RateLimited                     // 429 rate_limit_error
	Unavailable                     // 503 api_error
)

// Error is the only error type that reaches clients. Code is a stable
// snake_case machine code; Message is safe to show a merchant; Err is the
// cause, logged but never rendered.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Param   string
	Err     error
}

// Error returns the code and cause for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Err.Error()
	}
	return e.Code
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so a copy made
// by With... still matches the declared value.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithParam returns a copy of e naming the offending request field.
func (e *Error) WithParam(param string) *Error {
	c := *e
	c.Param = param
	return &c
}

// AtIndex returns a copy of e naming list field as its param (API.md:
// param names the offending field) and element i in its message.
func (e *Error) AtIndex(field string, i int) *Error {
	c := *e
	c.Param = field
	c.Message = fmt.Sprintf("%s (%s[%d])", e.Message, field, i)
	return &c
}

// WithMessage returns a copy of e with another human message.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}

// Wrap returns a copy of e carrying cause for the logs.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// InvalidParam returns a 400 error for param with the given code and message.
func InvalidParam(code, param, msg string) *Error {
	return &Error{Kind: Invalid, Code: code, Message: msg, Param: param}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
