// Package delivery makes the deliveries package webhook records: it leases
// a delivery to one worker, POSTs its event (webhook.Service.Send), records
// the attempt, schedules retries, and disables an endpoint that fails for
// too long (e-mailing its merchant). New deliveries reach the task queue
// through Relay, or get their first attempt straight from the outbox
// (ClaimNew, Make, RecordFirst); Sweep hands over again what the queue
// lost. The task queue is behind the small Enqueuer interface: this
// package never imports it.
package delivery

import (
	"time"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook"
)

// Config is what a Service is built from.
type Config struct {
	// Webhooks sends each attempt; its timeout bounds one.
	Webhooks  *webhook.Service
	Merchants *merchant.Service
	// Schedule is the delay before each retry, with jitter; a delivery is
	// attempted len(Schedule)+1 times at most.
	Schedule []time.Duration
	// DisableAfter is how long an endpoint may fail without a success
	// before it is disabled and its merchant e-mailed.
	DisableAfter time.Duration
	Now          func() time.Time
}

// Service makes deliveries.
type Service struct {
	db  *postgres.DB
	cfg Config
}

// NewService returns a Service on db.
func NewService(db *postgres.DB, cfg Config) *Service {
	return &Service{db: db, cfg: cfg}
}
