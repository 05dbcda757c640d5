package riskmodel

import (
	"context"
	"sync"
	"time"

	"github.com/paylink/paylink/internal/postgres"
)

// RefreshEvery bounds how long a process scores with a model after
// another was activated: each Source rereads the active version at most
// this long after its last read.
const RefreshEvery = 30 * time.Second

// Source hands the engine the active model, reread from PostgreSQL once
// its copy is older than a refresh interval (so every replica follows an
// activation within that bound, with one query per interval).
type Source struct {
	db    *postgres.DB
	every time.Duration
	now   func() time.Time

	mu     sync.Mutex
	model  Model
	loaded time.Time // zero: never read
}

// NewSource returns a Source rereading db every interval.
func NewSource(db *postgres.DB, every time.Duration, now func() time.Time) *Source {
	return &Source{db: db, every: every, now: now, model: DefaultModel}
}

// Current returns the active model. When it cannot be read, it returns
// the last one read (DefaultModel at first) with the error, and tries
// again after the interval.
func (s *Source) Current(ctx context.Context) (Model, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !s.loaded.IsZero() && now.Sub(s.loaded) < s.every {
		return s.model, nil
	}
	s.loaded = now
	m, _, _, err := Active(ctx, s.db.Pool)
	if err != nil {
		return s.model, err
	}
	s.model = m
	return m, nil
}
