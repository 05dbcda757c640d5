package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/wire"
)

// Ping is the event type of a test delivery: it is sent to one endpoint
// when its merchant asks, never recorded and never subscribed to.
const Ping = "ping"

// selectPingTarget reads what signing a ping to an endpoint needs.
const selectPingTarget = `
SELECT url, secret_sealed, previous_secret_sealed, previous_secret_expires_at
FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL`

// PingResult is how an endpoint answered a ping.
type PingResult struct {
	Event   Event
	Attempt Attempt
}

// ToWire returns r as the API shows it.
func (r *PingResult) ToWire() wire.WebhookPing {
	out := wire.WebhookPing{Event: r.Event.ToWire(), Succeeded: r.Attempt.Error == "",
		LatencyMS: r.Attempt.Latency.Milliseconds(), ResponseBody: r.Attempt.ResponseBody}
	if r.Attempt.StatusCode != 0 {
		code := r.Attempt.StatusCode
		out.StatusCode = &code
	}
	if r.Attempt.Error != "" {
		msg := r.Attempt.Error
		out.Error = &msg
	}
	return out
}

// SendPing POSTs a signed ping event ({"endpoint": "we_…"}) to endpoint
// endpointID of merchantID alone, now and once, as any delivery is sent
// (same headers, signatures, timeout and address checks), enabled or not,
// so a merchant can check a receiver before turning it back on. Nothing
// is stored. It returns ErrEndpointNotFound.
func (s *Service) SendPing(ctx context.Context, merchantID, endpointID string) (*PingResult, error) {
	var (
		target           string
		current, prev    []byte
		prevExpires      *time.Time
		now              = s.cfg.Now().UTC().Truncate(time.Microsecond)
		data, encodeFail = json.Marshal(map[string]string{"endpoint": endpointID})
	)
	if encodeFail != nil {
		return nil, encodeFail
	}
	err := s.db.Pool.QueryRow(ctx, selectPingTarget, merchantID, endpointID).Scan(&target, &current, &prev, &prevExpires)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrEndpointNotFound
	case err != nil:
		return nil, fmt.Errorf("read webhook endpoint: %w", err)
	}
	ev := Event{ID: id.NewAt("evt", now), MerchantID: merchantID, Type: Ping, Data: data, CreatedAt: now}
	r, err := s.Send(ctx, Target{EndpointID: endpointID, URL: target, Secret: current, Previous: prev, PreviousExpires: prevExpires}, &ev, now)
	if err != nil {
		return nil, err
	}
	return &PingResult{Event: ev, Attempt: Attempt{N: 1, AttemptedAt: now, StatusCode: r.Status, Latency: r.Latency,
		ResponseBody: r.Body, Error: r.Err}}, nil
}
