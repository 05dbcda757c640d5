package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// mutation is the work of a POST inside its transaction: it returns the
// status and body to answer, or an error to roll everything back.
type mutation func(ctx context.Context, tx pgx.Tx) (int, any, error)

// laterMutation is a mutation that may also queue statements needing no
// answer in later; they are sent with the Idempotency-Key record and the
// COMMIT in one round trip.
type laterMutation func(ctx context.Context, tx pgx.Tx, later *postgres.Writes) (int, any, error)

// mutate runs fn in one transaction together with the Idempotency-Key
// record of the request, when it has one, so the effect and the stored
// answer commit or vanish together. A replay answers the stored status
// and body with Idempotent-Replayed: true. scope is the caller (merchant or
// user id) the key belongs to.
func (s *Server) mutate(c *gin.Context, scope string, fn mutation) error {
	return s.mutateLater(c, scope, func(ctx context.Context, tx pgx.Tx, _ *postgres.Writes) (int, any, error) {
		return fn(ctx, tx)
	})
}

// mutateLater is mutate for work that queues some of its writes (events,
// say) in later; the hot checkout path uses it to save round trips.
func (s *Server) mutateLater(c *gin.Context, scope string, fn laterMutation) error {
	ctx := c.Request.Context()
	key := c.GetHeader("Idempotency-Key")
	if key != "" && !idempotency.ValidKey(key) {
		return idempotency.ErrKeyInvalid
	}
	req := idempotency.Request{Scope: scope, Key: key,
		Fingerprint: fingerprint(c)}
	var (
		status   int
		body     []byte
		replayed bool
	)
	err := s.db.WithTxLater(ctx, func(tx pgx.Tx, later *postgres.Writes) error {
		replayed = false
		if key != "" {
			prev, err := s.idem.Begin(ctx, tx, req)
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
		if key != "" {
			return s.idem.Save(ctx, later, req, idempotency.Response{Status: st, Body: b}, s.now())
		}
		return nil
	})
	if err != nil {
		return err
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Data(status, "application/json; charset=utf-8", body)
	return nil
}

// listOf is one page of items, as the API's list object.
func listOf[T, W any](items []T, more bool, toWire func(T) W) wire.List[W] {
	out := wire.List[W]{Data: make([]W, len(items)), HasMore: more}
	for i, item := range items {
		out.Data[i] = toWire(item)
	}
	return out
}

// listParams are the pagination parameters of every list route.
type listParams struct {
	Limit         int
	StartingAfter string
}

var errLimitInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "limit_invalid", Param: "limit",
	Message: "limit must be a whole number from 1 to 100."}

// parseList reads limit (1..100, default 10) and starting_after, which
// must be an id with prefix.
func parseList(c *gin.Context, prefix string) (listParams, error) {
	p := listParams{Limit: 10, StartingAfter: c.Query("starting_after")}
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return p, errLimitInvalid
		}
		p.Limit = n
	}
	if p.StartingAfter != "" && !id.Valid(prefix, p.StartingAfter) {
		return p, apperr.InvalidParam("starting_after_invalid", "starting_after",
			"starting_after must be the id of an object in the list.")
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
