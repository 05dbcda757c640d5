package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// Mutation is the work of a POST inside its transaction: it returns the
// status and body to answer, or an error to roll everything back.
type Mutation func(ctx context.Context, tx pgx.Tx) (int, any, error)

// LaterMutation is a Mutation that may also queue statements needing no
// answer in later; they are sent with the Idempotency-Key record and the
// COMMIT in one round trip.
type LaterMutation func(ctx context.Context, tx pgx.Tx, later *postgres.Writes) (int, any, error)

// Mutate runs fn in one transaction together with the Idempotency-Key
// record of the request, when it has one, so the effect and the stored
// answer commit or vanish together. A replay answers the stored status
// and body with Idempotent-Replayed: true. scope is the caller (merchant or
// user id) the key belongs to. Only routes declared Idempotent may call
// it.
func (e *Edge) Mutate(c *gin.Context, scope string, fn Mutation) error {
	return e.MutateLater(c, scope, func(ctx context.Context, tx pgx.Tx, _ *postgres.Writes) (int, any, error) {
		return fn(ctx, tx)
	})
}

// MutateLater is Mutate for work that queues some of its writes (events,
// say) in later; the hot checkout path uses it to save round trips.
func (e *Edge) MutateLater(c *gin.Context, scope string, fn LaterMutation) error {
	status, body, err := e.mutate(c, scope, fn)
	if err != nil {
		return err
	}
	c.Data(status, "application/json; charset=utf-8", body)
	return nil
}

// MutateAnswer is Mutate for pages: it answers nothing itself but returns
// the status and JSON body stored with the effect (the first request's
// on a replay), for the page to render or redirect by.
func (e *Edge) MutateAnswer(c *gin.Context, scope string, fn Mutation) (int, []byte, error) {
	return e.mutate(c, scope, func(ctx context.Context, tx pgx.Tx, _ *postgres.Writes) (int, any, error) {
		return fn(ctx, tx)
	})
}

// mutate is MutateLater without writing the answer.
func (e *Edge) mutate(c *gin.Context, scope string, fn LaterMutation) (int, []byte, error) {
	if err := mustBeIdempotent(c); err != nil {
		return 0, nil, err
	}
	ctx := c.Request.Context()
	key := c.GetHeader("Idempotency-Key") // checked by checkIdempotencyKey
	req := idempotency.Request{Scope: scope, Key: key, Fingerprint: Fingerprint(c)}
	status, body, replayed := 0, []byte(nil), false
	err := e.db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		replayed = false
		if key != "" {
			prev, err := e.idem.Begin(ctx, tx, req, e.now())
			if err != nil {
				return err
			}
			if prev != nil {
				status, body, replayed = prev.Status, prev.Body, true
				return nil
			}
		}
		st, v, err := fn(ctx, tx, later)
		if err != nil {
			return err
		}
		b, err := encodeJSON(v)
		if err != nil {
			return fmt.Errorf("encode response: %w", err)
		}
		status, body = st, b
		if key == "" {
			return nil
		}
		resp := idempotency.Response{Status: st, Body: b}
		if sb, ok := v.(secretBearing); ok {
			if resp.Redacted, err = encodeJSON(sb.WithoutSecret()); err != nil {
				return fmt.Errorf("encode response: %w", err)
			}
			if bytes.Equal(resp.Redacted, b) {
				resp.Redacted = nil
			}
		}
		return e.idem.Save(ctx, later, req, resp, e.now())
	})
	if err != nil {
		return 0, nil, err
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	return status, body, nil
}

// secretBearing is an answer that may carry a secret shown once (a new API
// key's, a webhook endpoint's): its replays show the secret only within
// idempotency.SecretReplay, then WithoutSecret.
type secretBearing interface {
	WithoutSecret() any
}

// ListOf is one page of items, as the API's list object.
func ListOf[T, W any](items []T, more bool, toWire func(T) W) wire.List[W] {
	out := wire.List[W]{Data: make([]W, len(items)), HasMore: more}
	for i, item := range items {
		out.Data[i] = toWire(item)
	}
	return out
}

// ListParams are the pagination parameters of every list route.
type ListParams struct {
	Limit         int
	StartingAfter string
}

var errLimitInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "limit_invalid", Param: "limit",
	Message: "limit must be a whole number from 1 to 100."}

// ParseList reads limit (1..100, default 10) and starting_after, an id with
// prefix; any other query parameter not in filters (?staus=) is refused.
func ParseList(c *gin.Context, prefix string, filters ...string) (ListParams, error) {
	p := ListParams{Limit: 10, StartingAfter: c.Query("starting_after")}
	for name := range c.Request.URL.Query() {
		if !slices.Contains(append(filters, "limit", "starting_after"), name) {
			return p, ErrUnknownParameter.WithParam(name).WithMessage("Unknown parameter: " + name + ".")
		}
	}
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return p, errLimitInvalid
		}
		p.Limit = n
	}
	if p.StartingAfter != "" && !id.Valid(prefix, p.StartingAfter) {
		return p, apperr.InvalidParam("starting_after_invalid", "starting_after", "starting_after must be the id of an object in the list.")
	}
	return p, nil
}

// encodeJSON encodes v as every answer is encoded (gin's PureJSON): with
// '&', '<' and '>' as they are, so URLs read as URLs, and a final newline.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// PrecheckIdempotency looks at the request's Idempotency-Key before work
// that cannot run inside the transaction (a card charge): a finished
// request is replayed (replayed is true and the answer written), and a
// key in use or reused with another body fails, before anything is
// charged. Mutate checks again in the transaction that stores the effect.
func (e *Edge) PrecheckIdempotency(c *gin.Context, scope string) (bool, error) {
	if err := mustBeIdempotent(c); err != nil {
		return false, err
	}
	key := c.GetHeader("Idempotency-Key") // checked by checkIdempotencyKey
	if key == "" {
		return false, nil
	}
	r := idempotency.Request{Scope: scope, Key: key,
		Fingerprint: Fingerprint(c)}
	ctx := c.Request.Context()
	tx, err := e.db.Pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only; releases the advisory lock
	prev, err := e.idem.Begin(ctx, tx, r, e.now())
	if err != nil || prev == nil {
		return false, err
	}
	c.Header("Idempotent-Replayed", "true")
	c.Data(prev.Status, "application/json; charset=utf-8", prev.Body)
	return true, nil
}

// mustBeIdempotent refuses to store an answer for a route that does not
// declare Idempotent: its documentation would not say it takes a key.
func mustBeIdempotent(c *gin.Context) error {
	if r := routeOf(c); r == nil || !r.Idempotent {
		return fmt.Errorf("route %s %s stores an idempotent answer but is not declared Idempotent", c.Request.Method, c.FullPath())
	}
	return nil
}
