// Package id makes the opaque, prefixed identifiers of the public API
// ("pay_01jd…"). They sort by creation time to the millisecond, which keeps
// B-tree inserts local and makes "newest first" pagination an index scan,
// and carry 80 random bits so they can neither be guessed nor enumerated.
package id

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"
)

// alphabet is Crockford's base32 in lower case: no i, l, o or u.
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// Len is the length of the part after the prefix and underscore.
const Len = 26

// New returns prefix + "_" + 26 characters: a 48-bit millisecond timestamp
// followed by 80 random bits, base32-encoded.
func New(prefix string) string {
	return NewAt(prefix, time.Now())
}

// NewAt is New with an explicit creation time.
func NewAt(prefix string, t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return encode(prefix, b)
}

// Floor returns the lowest id with prefix that NewAt can make at t (its
// random bits all zero): ids made before t sort below it, ids made at or
// after t at or above it, which lets a time range be read off an index on
// the id.
func Floor(prefix string, t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	return encode(prefix, b)
}

// encode writes prefix, "_" and the 128 bits of b in base32.
func encode(prefix string, b [16]byte) string {
	var sb strings.Builder
	sb.Grow(len(prefix) + 1 + Len)
	sb.WriteString(prefix)
	sb.WriteByte('_')
	// 128 bits as 26 base32 digits, most significant first (the top two
	// bits of the first digit are always zero).
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [Len]byte
	for i := Len - 1; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	sb.Write(out[:])
	return sb.String()
}

// Valid reports whether s looks like an id with the given prefix. It checks
// the form only, not that the id exists.
func Valid(prefix, s string) bool {
	if len(s) != len(prefix)+1+Len || !strings.HasPrefix(s, prefix+"_") {
		return false
	}
	for _, c := range s[len(prefix)+1:] {
		if !strings.ContainsRune(alphabet, c) {
			return false
		}
	}
	return true
}
