// Package password hashes and verifies people's passwords with Argon2id,
// a memory-hard KDF, in the PHC string format so parameters can be raised
// later without breaking stored hashes. Every hash and verification of a
// process goes through one Hasher.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
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

// KDF is the signature of argon2.IDKey.
type KDF func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// Config configures a Hasher.
type Config struct {
	// KDF replaces argon2.IDKey when set, so tests can count or hold the
	// hashes a request runs.
	KDF KDF
}

// Hasher hashes and verifies passwords. Build one per process and share
// it: it is safe for concurrent use.
type Hasher struct {
	kdf KDF
}

// NewHasher returns a Hasher configured by cfg.
func NewHasher(cfg Config) *Hasher {
	h := &Hasher{kdf: cfg.KDF}
	if h.kdf == nil {
		h.kdf = argon2.IDKey
	}
	return h
}

// Hash returns an encoded Argon2id hash of pw with a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	sum := h.kdf([]byte(pw), salt, timeCost, memoryKiB, threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memoryKiB, timeCost, threads, b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// Verify reports whether pw matches encoded, in constant time. It returns
// ErrMalformed for a hash it cannot read.
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
	got := h.kdf([]byte(pw), salt, t, m, p, uint32(len(want)))
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
