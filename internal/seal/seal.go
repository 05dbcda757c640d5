// Package seal encrypts secrets at rest (API key secrets, webhook secrets,
// stored idempotent responses) with AES-256-GCM under versioned master keys
// from configuration, so keys can be rotated: new data is sealed with the
// current key and old data still opens with the key of its version.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrOpen means a sealed value could not be opened: unknown key version,
// wrong associated data, or tampering.
var ErrOpen = errors.New("seal: cannot open sealed value")

// Keyring holds the master keys by version. The zero value is unusable.
type Keyring struct {
	current uint16
	aeads   map[uint16]cipher.AEAD
	raw     map[uint16][]byte
}

// Parse reads "version:base64key,version:base64key…"; every key is 32
// bytes (standard or URL base64), versions are 1..65535 and the first entry
// seals new data.
func Parse(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[uint16]cipher.AEAD{}, raw: map[uint16][]byte{}}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		v, b64, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("entry %d: want version:base64key", i+1)
		}
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("entry %d: version must be 1..65535", i+1)
		}
		key, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		if _, dup := k.aeads[uint16(n)]; dup {
			return nil, fmt.Errorf("entry %d: version %d given twice", i+1, n)
		}
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		k.aeads[uint16(n)] = aead
		k.raw[uint16(n)] = key
		if i == 0 {
			k.current = uint16(n)
		}
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("key must be 32 bytes, got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("key is not base64")
}

// Seal encrypts plaintext bound to aad (for example the row's id, so a
// sealed value cannot be moved to another row). The result is
// version(2) || nonce(12) || ciphertext+tag.
func (k *Keyring) Seal(plaintext, aad []byte) []byte {
	aead := k.aeads[k.current]
	out := make([]byte, 2+aead.NonceSize(), 2+aead.NonceSize()+len(plaintext)+aead.Overhead())
	binary.BigEndian.PutUint16(out, k.current)
	_, _ = rand.Read(out[2:])
	return aead.Seal(out, out[2:2+aead.NonceSize()], plaintext, aad)
}

// Open decrypts a value made by Seal with the same aad. It returns ErrOpen
// when the key version is unknown or the value or aad was altered.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 2 {
		return nil, ErrOpen
	}
	aead, ok := k.aeads[binary.BigEndian.Uint16(sealed)]
	if !ok || len(sealed) < 2+aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	ns := aead.NonceSize()
	pt, err := aead.Open(nil, sealed[2:2+ns], sealed[2+ns:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Version returns the key version a sealed value was made with, so an
// operator can find values still sealed under a retired key.
func Version(sealed []byte) uint16 {
	if len(sealed) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(sealed)
}

// Current returns the version that Seal uses.
func (k *Keyring) Current() uint16 { return k.current }

// Versions returns every key version, the current one first, then the
// others in descending order.
func (k *Keyring) Versions() []uint16 {
	out := []uint16{k.current}
	for v := range k.raw {
		if v != k.current {
			out = append(out, v)
		}
	}
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i] > out[1+j] })
	return out
}

// Derive returns a 32-byte key for purpose, derived from the master key of
// version v with HMAC-SHA256, so a feature can have its own key that rotates
// with the keyring without ever exposing a master key. It reports false for
// an unknown version.
func (k *Keyring) Derive(v uint16, purpose string) ([]byte, bool) {
	master, ok := k.raw[v]
	if !ok {
		return nil, false
	}
	h := hmac.New(sha256.New, master)
	h.Write([]byte("paylink derive\x00" + purpose))
	return h.Sum(nil), true
}
