package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/postgres"
)

// Errors about endpoints.
var (
	ErrEndpointNotFound = &apperr.Error{Kind: apperr.NotFound, Code: "webhook_endpoint_not_found",
		Message: "No such webhook endpoint."}
	ErrEventsInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "events_invalid", Param: "events",
		Message: "events must list 1 to 20 event types (payment.succeeded, payment.failed, payment.refunded, payment.requires_action, payment.canceled, refund.succeeded, payment_link.completed, payment_link.expired, payment_link.sent) or \"*\" for all."}
	ErrDescriptionInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "description_invalid", Param: "description",
		Message: "description must be at most 500 characters."}
	ErrTooManyEndpoints = &apperr.Error{Kind: apperr.Invalid, Code: "webhook_endpoint_limit",
		Message: "A merchant can have at most 16 webhook endpoints; delete one first."}
	ErrStatusInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "status_invalid", Param: "status",
		Message: "status must be \"enabled\" or \"disabled\"."}
	ErrOverlapInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "expiry_invalid", Param: "expires_in",
		Message: "expires_in must be a whole number of seconds from 0 to 604800 (7 days): how long the previous secret keeps signing."}
)

// Limits on endpoints.
const (
	maxEndpoints   = 16
	maxEventFilter = 20
	// MaxOverlap is the longest time a rotated-out secret keeps signing.
	MaxOverlap = 7 * 24 * time.Hour
	// DefaultOverlap is how long a rotated-out secret keeps signing when
	// the merchant does not say.
	DefaultOverlap = 24 * time.Hour
)

// NewEndpoint is what a merchant gives to register an endpoint.
type NewEndpoint struct {
	URL         *url.URL // checked with CheckURL
	Events      []string
	Description string
}

// EndpointUpdate changes the fields that are not nil.
type EndpointUpdate struct {
	URL         *url.URL // checked with CheckURL
	Events      []string
	Description *string
	Status      *string
}

// CheckURL validates an endpoint URL as Guard.CheckURL does. It resolves
// DNS, so call it before opening a transaction.
func (s *Service) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	return s.cfg.Guard.CheckURL(ctx, raw)
}

// ValidateEvents returns the event filter without duplicates, or
// ErrEventsInvalid.
func ValidateEvents(events []string) ([]string, error) {
	if len(events) == 0 || len(events) > maxEventFilter {
		return nil, ErrEventsInvalid
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		if e != AllEvents && !slices.Contains(Types(), e) {
			return nil, ErrEventsInvalid.WithMessage(fmt.Sprintf("Unknown event type %q; use one of %v or \"*\".", e, Types()))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func validDescription(d string) bool { return utf8.ValidString(d) && utf8.RuneCountInString(d) <= 500 }

// CreateEndpoint registers an endpoint for merchantID in tx with a new
// secret, returned in Endpoint.Secret and never readable again. It returns
// ErrEventsInvalid, ErrDescriptionInvalid or ErrTooManyEndpoints.
func (s *Service) CreateEndpoint(ctx context.Context, tx pgx.Tx, merchantID string, in NewEndpoint) (*Endpoint, error) {
	events, err := ValidateEvents(in.Events)
	if err != nil {
		return nil, err
	}
	if !validDescription(in.Description) {
		return nil, ErrDescriptionInvalid
	}
	var n int
	if err := tx.QueryRow(ctx, countEndpoints, merchantID).Scan(&n); err != nil {
		return nil, fmt.Errorf("count webhook endpoints: %w", err)
	}
	if n >= maxEndpoints {
		return nil, ErrTooManyEndpoints
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	e := &Endpoint{
		ID: id.NewAt("we", now), MerchantID: merchantID, URL: in.URL.String(), Description: in.Description,
		Events: events, Status: StatusEnabled, Secret: NewSecret(), CreatedAt: now,
	}
	sealed := s.cfg.Keyring.Seal([]byte(e.Secret), []byte(e.ID))
	if _, err := tx.Exec(ctx, insertEndpoint, e.ID, merchantID, e.URL, e.Description, e.Events, sealed, now); err != nil {
		return nil, fmt.Errorf("insert webhook endpoint: %w", err)
	}
	return e, nil
}

// scanEndpoint reads the columns of endpointColumns.
func scanEndpoint(row pgx.Row) (*Endpoint, error) {
	var e Endpoint
	err := row.Scan(&e.ID, &e.MerchantID, &e.URL, &e.Description, &e.Events, &e.Status, &e.DisabledReason,
		&e.PreviousSecretExpiresAt, &e.CreatedAt)
	return &e, err
}

// GetEndpoint returns endpoint endpointID of merchantID. It returns
// ErrEndpointNotFound, also for a deleted endpoint.
func (s *Service) GetEndpoint(ctx context.Context, db postgres.DBTX, merchantID, endpointID string) (*Endpoint, error) {
	e, err := scanEndpoint(db.QueryRow(ctx, selectEndpoint, merchantID, endpointID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrEndpointNotFound
	case err != nil:
		return nil, fmt.Errorf("read webhook endpoint: %w", err)
	}
	return e.visible(s.cfg.Now()), nil
}

// visible hides a rotated-out secret's expiry once it has passed.
func (e *Endpoint) visible(now time.Time) *Endpoint {
	if e.PreviousSecretExpiresAt != nil && !e.PreviousSecretExpiresAt.After(now) {
		e.PreviousSecretExpiresAt = nil
	}
	return e
}

// ListEndpoints returns up to limit endpoints of merchantID older than
// startingAfter (all when empty), newest first, and whether more follow.
func (s *Service) ListEndpoints(ctx context.Context, db postgres.DBTX, merchantID string, limit int, startingAfter string) ([]*Endpoint, bool, error) {
	q := postgres.NewestOf(selectEndpoints, "merchant_id", merchantID).Where("deleted_at IS NULL").Before(startingAfter)
	out, more, err := postgres.PageNewest(ctx, db, limit, func(r pgx.CollectableRow) (*Endpoint, error) { return scanEndpoint(r) }, q)
	if err != nil {
		return nil, false, fmt.Errorf("list webhook endpoints: %w", err)
	}
	now := s.cfg.Now()
	for _, e := range out {
		e.visible(now)
	}
	return out, more, nil
}

// UpdateEndpoint changes an endpoint in tx. Enabling a disabled endpoint
// clears its reason and its failure streak; deliveries it missed while
// disabled are not resent (redeliver the events for that). It returns
// ErrEndpointNotFound, ErrEventsInvalid, ErrDescriptionInvalid or
// ErrStatusInvalid.
func (s *Service) UpdateEndpoint(ctx context.Context, tx pgx.Tx, merchantID, endpointID string, u EndpointUpdate) (*Endpoint, error) {
	var (
		rawURL *string
		events []string
		err    error
	)
	if u.URL != nil {
		str := u.URL.String()
		rawURL = &str
	}
	if u.Events != nil {
		if events, err = ValidateEvents(u.Events); err != nil {
			return nil, err
		}
	}
	if u.Description != nil && !validDescription(*u.Description) {
		return nil, ErrDescriptionInvalid
	}
	if u.Status != nil && *u.Status != StatusEnabled && *u.Status != StatusDisabled {
		return nil, ErrStatusInvalid
	}
	e, err := scanEndpoint(tx.QueryRow(ctx, updateEndpoint, merchantID, endpointID, rawURL, events, u.Description, u.Status))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrEndpointNotFound
	case err != nil:
		return nil, fmt.Errorf("update webhook endpoint: %w", err)
	}
	return e.visible(s.cfg.Now()), nil
}

// DeleteEndpoint deletes an endpoint in tx and cancels its pending
// deliveries; its delivery history stays readable through events. It
// returns ErrEndpointNotFound.
func (s *Service) DeleteEndpoint(ctx context.Context, tx pgx.Tx, merchantID, endpointID string) error {
	now := s.cfg.Now()
	tag, err := tx.Exec(ctx, deleteEndpoint, merchantID, endpointID, now)
	switch {
	case err != nil:
		return fmt.Errorf("delete webhook endpoint: %w", err)
	case tag.RowsAffected() == 0:
		return ErrEndpointNotFound
	}
	if _, err := tx.Exec(ctx, cancelEndpointDeliveries, merchantID, endpointID, now); err != nil {
		return fmt.Errorf("cancel deliveries: %w", err)
	}
	return nil
}

// RotateSecret gives an endpoint a new secret in tx, returned in
// Endpoint.Secret and never readable again. The previous secret keeps
// signing, as a second signature, for overlap (0 retires it at once;
// at most MaxOverlap). It returns ErrEndpointNotFound or ErrOverlapInvalid.
func (s *Service) RotateSecret(ctx context.Context, tx pgx.Tx, merchantID, endpointID string, overlap time.Duration) (*Endpoint, error) {
	if overlap < 0 || overlap > MaxOverlap {
		return nil, ErrOverlapInvalid
	}
	secret := NewSecret()
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	var expires *time.Time
	if overlap > 0 {
		t := now.Add(overlap)
		expires = &t
	}
	sealed := s.cfg.Keyring.Seal([]byte(secret), []byte(endpointID))
	e, err := scanEndpoint(tx.QueryRow(ctx, rotateSecret, merchantID, endpointID, sealed, expires))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrEndpointNotFound
	case err != nil:
		return nil, fmt.Errorf("rotate webhook secret: %w", err)
	}
	e.Secret = secret
	return e.visible(now), nil
}

// secrets opens the secrets an attempt signs with: the current one, then
// the previous one while its overlap lasts.
func (s *Service) secrets(endpointID string, current, previous []byte, previousExpires *time.Time, now time.Time) ([]string, error) {
	cur, err := s.cfg.Keyring.Open(current, []byte(endpointID))
	if err != nil {
		return nil, fmt.Errorf("open secret of %s: %w", endpointID, err)
	}
	out := []string{string(cur)}
	if previous != nil && previousExpires != nil && previousExpires.After(now) {
		prev, err := s.cfg.Keyring.Open(previous, []byte(endpointID))
		if err != nil {
			return nil, fmt.Errorf("open previous secret of %s: %w", endpointID, err)
		}
		out = append(out, string(prev))
	}
	return out, nil
}
