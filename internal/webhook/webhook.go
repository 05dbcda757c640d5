// Package webhook is the merchant-facing event outbox: events are
// recorded in the same database transaction as the change they report,
// together with one delivery row per subscribed endpoint. It owns the
// event types and their wire form, the endpoints (secrets sealed, URLs
// checked by a Guard that refuses private and metadata addresses), event
// and delivery reads, redelivery and pings, and how one event is signed
// (Standard Webhooks) and POSTed (Service.Send). Package delivery makes
// the deliveries (attempts, retries, disabling failing endpoints); package
// eventmail derives e-mails from events.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/wire"
)

// Event types.
const (
	PaymentSucceeded      = "payment.succeeded"
	PaymentFailed         = "payment.failed"
	PaymentRefunded       = "payment.refunded"
	PaymentRequiresAction = "payment.requires_action"
	PaymentCanceled       = "payment.canceled"
	RefundSucceeded       = "refund.succeeded"
	PaymentLinkCompleted  = "payment_link.completed"
	PaymentLinkExpired    = "payment_link.expired"
	PaymentLinkSent       = "payment_link.sent"
	ReviewOpened          = "review.opened"
	ReviewClosed          = "review.closed"
)

// AllEvents is the wildcard an endpoint subscribes with to receive every
// event type.
const AllEvents = "*"

// Types returns every event type an endpoint can subscribe to.
func Types() []string {
	return []string{PaymentSucceeded, PaymentFailed, PaymentRefunded, PaymentRequiresAction, PaymentCanceled,
		RefundSucceeded, PaymentLinkCompleted, PaymentLinkExpired, PaymentLinkSent, ReviewOpened, ReviewClosed}
}

// Notifies reports whether events of type t have e-mails derived from
// them after commit (package eventmail); other events are recorded as
// notified.
func Notifies(t string) bool {
	switch t {
	case PaymentSucceeded, PaymentFailed, PaymentRefunded, RefundSucceeded, ReviewOpened, ReviewClosed:
		return true
	}
	return false
}

// Record writes an event of eventType for merchantID through tx (the
// business transaction, or a postgres.Writes flushed into it before
// commit), with one pending delivery per enabled endpoint of the merchant
// subscribed to it, in a single statement. data is the object the event is about, as the
// API answers it (a wire type). It returns the event id. Delivery happens
// after commit.
func Record(ctx context.Context, tx postgres.Execer, merchantID, eventType string, data any, now time.Time) (string, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("encode %s event: %w", eventType, err)
	}
	evtID := id.NewAt("evt", now)
	var notified *time.Time
	if !Notifies(eventType) {
		notified = &now
	}
	if _, err := tx.Exec(ctx, recordEvent, evtID, merchantID, eventType, b, now, notified, id.NewAt("dlv", now)); err != nil {
		return "", fmt.Errorf("record %s event: %w", eventType, err)
	}
	return evtID, nil
}

// Endpoint is a merchant's URL that receives events.
type Endpoint struct {
	ID             string
	MerchantID     string
	URL            string
	Description    string
	Events         []string
	Status         string // "enabled" or "disabled"
	DisabledReason string // "", "gone" (answered 410), "failing" (for too long) or "merchant"
	// Secret is only set on the value returned by CreateEndpoint and
	// RotateSecret; it is never readable again.
	Secret                  string
	PreviousSecretExpiresAt *time.Time
	CreatedAt               time.Time
}

// Endpoint statuses and reasons for disabling.
const (
	StatusEnabled  = "enabled"
	StatusDisabled = "disabled"

	ReasonGone     = "gone"
	ReasonFailing  = "failing"
	ReasonMerchant = "merchant"
)

// Event is something that happened to a merchant's objects.
type Event struct {
	ID         string
	MerchantID string
	Type       string
	Data       json.RawMessage
	CreatedAt  time.Time
}

// Delivery is the hand-over of one event to one endpoint and its attempts.
type Delivery struct {
	ID            string
	MerchantID    string
	EventID       string
	EndpointID    string
	Status        string // "pending", "succeeded", "failed" or "canceled"
	Attempts      int
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	CompletedAt   *time.Time
	Log           []Attempt
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	DeliveryCanceled  = "canceled"
)

// Attempt is one POST of a delivery.
type Attempt struct {
	N            int
	AttemptedAt  time.Time
	StatusCode   int // 0 when no HTTP answer came
	Latency      time.Duration
	ResponseBody string // the first bytes of the answer
	Error        string // why it failed, "" on success
}

// Config is what a Service is built from.
type Config struct {
	Keyring *seal.Keyring
	Guard   *Guard
	// Timeout bounds one request: connect, send, answer.
	Timeout time.Duration
	Now     func() time.Time
}

// Service manages endpoints, events and deliveries.
type Service struct {
	db     *postgres.DB
	cfg    Config
	client *http.Client
}

// NewService returns a Service on db.
func NewService(db *postgres.DB, cfg Config) *Service {
	return &Service{db: db, cfg: cfg, client: cfg.Guard.Client(cfg.Timeout)}
}

// ToWire returns e as the API shows it; the secret only if e was just
// created or rotated.
func (e *Endpoint) ToWire() wire.WebhookEndpoint {
	var reason *string
	if e.DisabledReason != "" {
		reason = &e.DisabledReason
	}
	return wire.WebhookEndpoint{ID: e.ID, URL: e.URL, Description: e.Description, Events: e.Events, Status: e.Status,
		DisabledReason: reason, Secret: e.Secret, PreviousSecretExpiresAt: wire.TimePtr(e.PreviousSecretExpiresAt),
		CreatedAt: wire.Time(e.CreatedAt)}
}

// ToWire returns d as the API shows it.
func (d *Delivery) ToWire() wire.WebhookDelivery {
	out := wire.WebhookDelivery{ID: d.ID, Event: d.EventID, Endpoint: d.EndpointID, Status: d.Status,
		AttemptCount: d.Attempts, NextAttemptAt: wire.TimePtr(d.NextAttemptAt), CreatedAt: wire.Time(d.CreatedAt),
		CompletedAt: wire.TimePtr(d.CompletedAt), Attempts: make([]wire.WebhookAttempt, len(d.Log))}
	for i, a := range d.Log {
		w := wire.WebhookAttempt{AttemptedAt: wire.Time(a.AttemptedAt), LatencyMS: a.Latency.Milliseconds(),
			ResponseBody: a.ResponseBody}
		if a.StatusCode != 0 {
			code := a.StatusCode
			w.StatusCode = &code
		}
		if a.Error != "" {
			msg := a.Error
			w.Error = &msg
		}
		out.Attempts[i] = w
	}
	return out
}
