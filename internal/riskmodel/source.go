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

	mu      sync.Mutex
	model   Model
	loaded  time.Time // zero: never read
	reading bool      // a caller is rereading it
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
	if s.loaded.IsZero() {
		defer s.mu.Unlock()
		return s.keep(s.read(ctx))
	}
	if s.reading || s.now().Sub(s.loaded) < s.every {
		m := s.model
		s.mu.Unlock()
		return m, nil
	}
	s.reading = true
	s.mu.Unlock()
	m, err := s.read(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reading = false
	return s.keep(m, err)
}

// read reads the active model.
func (s *Source) read(ctx context.Context) (Model, error) {
	m, _, _, err := Active(ctx, s.db.Pool)
	return m, err
}

// keep records a read's outcome with s.mu held: the model read, or the
// error and the last model read.
func (s *Source) keep(m Model, err error) (Model, error) {
	s.loaded = s.now()
	if err != nil {
		return s.model, err
	}
	s.model = m
	return m, nil
}
