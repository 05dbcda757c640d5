package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wire"
)

// Errors about events.
var (
	ErrEventNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "event_not_found", Message: "No such event."}
	ErrTypeInvalid   = &apperr.Error{Kind: apperr.Invalid, Code: "type_invalid", Param: "type",
		Message: "type must be one of payment.succeeded, payment.failed, payment.refunded, payment.requires_action, payment.canceled, refund.succeeded, payment_link.completed, payment_link.expired, payment_link.sent."}
	ErrEndpointDisabled = &apperr.Error{Kind: apperr.Conflict, Code: "webhook_endpoint_disabled",
		Message: "This webhook endpoint is disabled; enable it before redelivering to it."}
)

// Envelope returns the JSON body of e as it is delivered and as
// GET /v1/events/{id} answers it: {"id", "type", "timestamp", "data"}.
func (e *Event) Envelope() ([]byte, error) {
	b, err := json.Marshal(e.ToWire())
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return b, nil
}

// ToWire returns e as the API shows it.
func (e *Event) ToWire() wire.Event {
	return wire.Event{ID: e.ID, Type: e.Type, Timestamp: wire.Time(e.CreatedAt), Data: e.Data}
}

func scanEvent(r pgx.CollectableRow) (*Event, error) {
	var e Event
	err := r.Scan(&e.ID, &e.MerchantID, &e.Type, &e.Data, &e.CreatedAt)
	return &e, err
}

// GetEvent returns event eventID of merchantID. It returns
// ErrEventNotFound.
func (s *Service) GetEvent(ctx context.Context, db postgres.DBTX, merchantID, eventID string) (*Event, error) {
	var e Event
	err := db.QueryRow(ctx, selectEvent, merchantID, eventID).Scan(&e.ID, &e.MerchantID, &e.Type, &e.Data, &e.CreatedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrEventNotFound
	case err != nil:
		return nil, fmt.Errorf("read event: %w", err)
	}
	return &e, nil
}

// ListEvents returns up to limit events of merchantID older than
// startingAfter (all when empty), of type eventType when not empty, newest
// first, and whether more follow. It returns ErrTypeInvalid.
func (s *Service) ListEvents(ctx context.Context, db postgres.DBTX, merchantID, eventType string, limit int, startingAfter string) ([]*Event, bool, error) {
	if eventType != "" && !slices.Contains(Types(), eventType) {
		return nil, false, ErrTypeInvalid
	}
	out, more, err := postgres.PageNewest(ctx, db, limit, scanEvent, eventsPage(merchantID, eventType, startingAfter))
	if err != nil {
		return nil, false, fmt.Errorf("list events: %w", err)
	}
	return out, more, nil
}

// eventsPage is the page of merchantID's events of eventType (all when
// "") older than startingAfter (from the newest when ""): one range of
// events_merchant_id_idx or, with a type, events_merchant_type_idx. A type
// the merchant has none of read every event before (2.9 s at 10 million
// events; BENCHMARKS.md, stop 32).
func eventsPage(merchantID, eventType, startingAfter string) *postgres.Newest {
	return postgres.NewestOf(selectEvents, "merchant_id", merchantID).Within("type", eventType).
		Before(startingAfter)
}

// Redeliver queues event eventID again in tx, as new deliveries: to
// endpointID when given (any enabled endpoint of the merchant), else to
// every enabled endpoint subscribed to its type. Receivers see the same
// webhook-id and dedupe on it. It returns the new deliveries (none when no
// endpoint is subscribed), ErrEventNotFound, ErrEndpointNotFound or
// ErrEndpointDisabled.
func (s *Service) Redeliver(ctx context.Context, tx pgx.Tx, merchantID, eventID, endpointID string) ([]*Delivery, error) {
	ev, err := s.GetEvent(ctx, tx, merchantID, eventID)
	if err != nil {
		return nil, err
	}
	if endpointID != "" {
		e, err := s.GetEndpoint(ctx, tx, merchantID, endpointID)
		if err != nil {
			return nil, err
		}
		if e.Status != StatusEnabled {
			return nil, ErrEndpointDisabled
		}
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	rows, err := tx.Query(ctx, redeliver, merchantID, ev.ID, ev.Type, endpointID, now, id.NewAt("dlv", now))
	if err != nil {
		return nil, fmt.Errorf("redeliver %s: %w", ev.ID, err)
	}
	out, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("redeliver %s: %w", ev.ID, err)
	}
	return out, nil
}

// DeliveryFilter selects the deliveries of one event or one endpoint.
type DeliveryFilter struct {
	EventID    string
	EndpointID string
}

// ListDeliveries returns up to limit deliveries of merchantID matching f,
// older than startingAfter (all when empty), newest first, each with its
// attempts, and whether more follow. It returns ErrEventNotFound or
// ErrEndpointNotFound when f names an object that does not exist.
func (s *Service) ListDeliveries(ctx context.Context, db postgres.DBTX, merchantID string, f DeliveryFilter, limit int, startingAfter string) ([]*Delivery, bool, error) {
	q := postgres.NewestOf(selectDeliveries, "merchant_id", merchantID)
	if f.EventID != "" {
		if _, err := s.GetEvent(ctx, db, merchantID, f.EventID); err != nil {
			return nil, false, err
		}
		q.Within("event_id", f.EventID)
	} else {
		if err := db.QueryRow(ctx, endpointExists, merchantID, f.EndpointID).Scan(new(bool)); errors.Is(err, pgx.ErrNoRows) {
			return nil, false, ErrEndpointNotFound
		} else if err != nil {
			return nil, false, fmt.Errorf("read webhook endpoint: %w", err)
		}
		q.Within("endpoint_id", f.EndpointID)
	}
	out, more, err := postgres.PageNewest(ctx, db, limit, scanDelivery, q.Before(startingAfter))
	if err != nil {
		return nil, false, fmt.Errorf("list deliveries: %w", err)
	}
	if err := attachAttempts(ctx, db, merchantID, out); err != nil {
		return nil, false, err
	}
	return out, more, nil
}

func scanDelivery(r pgx.CollectableRow) (*Delivery, error) {
	var d Delivery
	err := r.Scan(&d.ID, &d.MerchantID, &d.EventID, &d.EndpointID, &d.Status, &d.Attempts, &d.NextAttemptAt,
		&d.CreatedAt, &d.CompletedAt)
	return &d, err
}

// attachAttempts loads the attempts of ds in one query.
func attachAttempts(ctx context.Context, db postgres.DBTX, merchantID string, ds []*Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	byID := make(map[string]*Delivery, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
		byID[d.ID] = d
		d.Log = []Attempt{}
	}
	rows, err := db.Query(ctx, listAttempts, merchantID, ids)
	if err != nil {
		return fmt.Errorf("list attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			deliveryID string
			a          Attempt
			status     *int
			latencyMS  int
		)
		if err := rows.Scan(&deliveryID, &a.N, &a.AttemptedAt, &status, &latencyMS, &a.ResponseBody, &a.Error); err != nil {
			return fmt.Errorf("list attempts: %w", err)
		}
		if status != nil {
			a.StatusCode = *status
		}
		a.Latency = time.Duration(latencyMS) * time.Millisecond
		byID[deliveryID].Log = append(byID[deliveryID].Log, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list attempts: %w", err)
	}
	return nil
}

// EventsAbout returns the events of merchantID about payment payID (its
// own, data.id, and its refunds', data.payment), oldest first, each with
// its deliveries and their attempts.
func (s *Service) EventsAbout(ctx context.Context, db postgres.DBTX, merchantID, payID string) ([]*Event, map[string][]*Delivery, error) {
	rows, err := db.Query(ctx, eventsAbout, merchantID, payID)
	if err != nil {
		return nil, nil, fmt.Errorf("list events about %s: %w", payID, err)
	}
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, nil, fmt.Errorf("list events about %s: %w", payID, err)
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	rows, err = db.Query(ctx, deliveriesOfEvents, merchantID, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("list deliveries about %s: %w", payID, err)
	}
	ds, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, nil, fmt.Errorf("list deliveries about %s: %w", payID, err)
	}
	if err := attachAttempts(ctx, db, merchantID, ds); err != nil {
		return nil, nil, err
	}
	byEvent := map[string][]*Delivery{}
	for _, d := range ds {
		byEvent[d.EventID] = append(byEvent[d.EventID], d)
	}
	return events, byEvent, nil
}

// selectRefundedPayment reads the payment.refunded event recorded in the
// same transaction (same xmin) as refund.succeeded event $3.
const selectRefundedPayment = `
SELECT data FROM events
WHERE merchant_id = $1 AND type = 'payment.refunded' AND data->>'id' = $2
  AND xmin = (SELECT xmin FROM events WHERE id = $3)
LIMIT 1`

// selectReviewedPayment reads the payment of review event $3 as the API
// showed it then: from the payment event recorded in the same transaction
// (the payment.succeeded that opened the review, the payment.refunded that
// closed it), else from its latest payment event up to the review event.
const selectReviewedPayment = `
SELECT p.data FROM events p, events r
WHERE r.id = $3 AND p.merchant_id = $1 AND p.data->>'id' = $2
  AND p.type IN ('payment.succeeded', 'payment.refunded') AND p.created_at <= r.created_at
ORDER BY p.xmin = r.xmin DESC, p.created_at DESC, p.id DESC
LIMIT 1`

// RefundedPayment returns payment payID as refund.succeeded event ev left
// it: the data of the payment.refunded event recorded in ev's
// transaction, or nil when there is none.
func RefundedPayment(ctx context.Context, db postgres.DBTX, ev *Event, payID string) (json.RawMessage, error) {
	return paymentOf(ctx, db, selectRefundedPayment, ev, payID)
}

// ReviewedPayment returns payment payID as review event ev saw it: the
// data of the payment event (payment.succeeded or payment.refunded)
// recorded in ev's transaction, else of its latest one up to ev, or nil
// when there is none.
func ReviewedPayment(ctx context.Context, db postgres.DBTX, ev *Event, payID string) (json.RawMessage, error) {
	return paymentOf(ctx, db, selectReviewedPayment, ev, payID)
}

// paymentOf runs query, one of the two above, for ev and payID.
func paymentOf(ctx context.Context, db postgres.DBTX, query string, ev *Event, payID string) (json.RawMessage, error) {
	var data json.RawMessage
	err := db.QueryRow(ctx, query, ev.MerchantID, payID, ev.ID).Scan(&data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read payment %s of event %s: %w", payID, ev.ID, err)
	}
	return data, nil
}

// ClaimUnnotified locks up to limit events whose e-mails are not derived
// yet (see Notifies), oldest first, in tx; rows other workers hold are
// skipped. MarkNotified, in the same transaction, records them done.
func ClaimUnnotified(ctx context.Context, tx pgx.Tx, limit int) ([]*Event, error) {
	rows, err := tx.Query(ctx, selectUnnotified, limit)
	if err != nil {
		return nil, fmt.Errorf("read events to notify: %w", err)
	}
	evs, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("read events to notify: %w", err)
	}
	return evs, nil
}

// MarkNotified records through w that the e-mails of events ids are
// derived.
func MarkNotified(ctx context.Context, w postgres.Execer, ids []string, now time.Time) error {
	if _, err := w.Exec(ctx, markNotified, ids, now); err != nil {
		return fmt.Errorf("mark events notified: %w", err)
	}
	return nil
}
