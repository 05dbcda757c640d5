// Package password hashes and verifies people's passwords with Argon2id,
// a memory-hard KDF, in the PHC string format so parameters can be raised
// later without breaking stored hashes. Every hash and verification of a
// process goes through one Hasher, which bounds how many run at once: each
// takes about 19 MiB and tens of milliseconds of one CPU, so a burst of
// sign-ups or log-ins from many addresses would otherwise exhaust memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/paylink/paylink/internal/apperr"
)

// Parameters follow OWASP's Argon2id recommendation (19 MiB, t=2, p=1).
const (
	memoryKiB = 19 * 1024
	timeCost  = 2
	threads   = 1
	keyLen    = 32
	saltLen   = 16
)

// ErrMalformed means a stored hash could not be parsed.
var ErrMalformed = errors.New("password: malformed hash")

// ErrBusy means every hashing slot stayed taken for the whole wait.
var ErrBusy = &apperr.Error{Kind: apperr.Unavailable, Code: "server_busy",
	Message: "Too many passwords are being checked right now; retry after the number of seconds in Retry-After."}

// BusyError is ErrBusy with how long the client should wait before
// retrying (the Retry-After header).
type BusyError struct{ After time.Duration }

func (e *BusyError) Error() string { return "password: no hashing slot free" }

// Unwrap makes errors.Is(err, ErrBusy) and apperr matching work.
func (e *BusyError) Unwrap() error { return ErrBusy }

// RetryAfter is how long to wait before retrying.
func (e *BusyError) RetryAfter(time.Time) time.Duration { return e.After }

// KDF is the signature of argon2.IDKey.
type KDF func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// Config configures a Hasher.
type Config struct {
	// Slots is how many hashes may run at once in the process; 0 means
	// AutoSlots.
	Slots int
	// Wait is how long a hash waits for a free slot before giving up with
	// a *BusyError; 0 means not at all.
	Wait time.Duration
	// KDF replaces argon2.IDKey when set, so tests can count or hold the
	// hashes a request runs.
	KDF KDF
}

// Hasher hashes and verifies passwords, at most Config.Slots at once.
// Build one per process and share it: it is safe for concurrent use.
type Hasher struct {
	kdf   KDF
	slots chan struct{}
	wait  time.Duration
}

// NewHasher returns a Hasher configured by cfg.
func NewHasher(cfg Config) *Hasher {
	if cfg.Slots <= 0 {
		cfg.Slots = AutoSlots()
	}
	h := &Hasher{kdf: cfg.KDF, slots: make(chan struct{}, cfg.Slots), wait: max(cfg.Wait, 0)}
	if h.kdf == nil {
		h.kdf = argon2.IDKey
	}
	return h
}

// Slots returns how many hashes may run at once.
func (h *Hasher) Slots() int { return cap(h.slots) }

// retryAfter is what a BusyError tells clients: a slot frees up within a
// hash's time, but a client retrying at once would only join the queue.
const retryAfter = time.Second

// run runs the KDF in a slot, waiting for one up to the configured wait
// or until ctx ends. It returns a *BusyError or ctx's error.
func (h *Hasher) run(ctx context.Context, pw, salt []byte, t, m uint32, p uint8, n uint32) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	default:
		timer := time.NewTimer(h.wait)
		defer timer.Stop()
		select {
		case h.slots <- struct{}{}:
		case <-timer.C:
			return nil, &BusyError{After: retryAfter}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() { <-h.slots }()
	return h.kdf(pw, salt, t, m, p, n), nil
}

// Hash returns an encoded Argon2id hash of pw with a fresh random salt.
// It returns a *BusyError when no slot frees up in time.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	sum, err := h.run(ctx, []byte(pw), salt, timeCost, memoryKiB, threads, keyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memoryKiB, timeCost, threads, b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// Verify reports whether pw matches encoded, in constant time. It returns
// ErrMalformed for a hash it cannot read, and a *BusyError when no slot
// frees up in time.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformed
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, ErrMalformed
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, ErrMalformed
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, ErrMalformed
	}
	got, err := h.run(ctx, []byte(pw), salt, t, m, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummy is a valid hash of a password nobody has, for VerifyNone.
const dummy = "$argon2id$v=19$m=19456,t=2,p=1$BU729QnxLj8J97sv+9+5og$o+MOUTH+2m+D/r0/iPv+G6ma+onSqONPMYO08l1ng0w"

// VerifyNone spends the work of one Verify, so a log-in for an unknown
// account takes as long as one with a wrong password.
func (h *Hasher) VerifyNone(ctx context.Context, pw string) error {
	_, err := h.Verify(ctx, pw, dummy)
	return err
}
