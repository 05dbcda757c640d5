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
	loaded time.Time // when last read, or being reread; zero: never read
}

// NewSource returns a Source rereading db every interval.
func NewSource(db *postgres.DB, every time.Duration, now func() time.Time) *Source {
	return &Source{db: db, every: every, now: now, model: DefaultModel}
}

// Current returns the active model. When it cannot be read, it returns
// the last one read (DefaultModel at first) with the error, and tries
// again after the interval. Only the first read makes other callers
// wait; while one caller rereads, the others go on with the copy they
// have, rather than all queue behind a read that may itself queue for a
// connection of a busy pool.
func (s *Source) Current(ctx context.Context) (Model, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	first := s.loaded.IsZero()
	if !first && now.Sub(s.loaded) < s.every {
		return s.model, nil
	}
	// From here on the copy counts as fresh, so no other caller rereads.
	s.loaded = now
	if !first {
		s.mu.Unlock()
	}
	m, _, _, err := Active(ctx, s.db.Pool)
	if !first {
		s.mu.Lock()
	}
	if err != nil {
		return s.model, err
	}
	s.model = m
	return m, nil
}
