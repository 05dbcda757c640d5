package seal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// macKey derives the HMAC key for purpose from the master key of version v.
func (k *Keyring) macKey(v uint16, purpose string) ([]byte, bool) {
	return k.Derive(v, "mac "+purpose)
}

// Sign returns "<key version>.<base64url HMAC-SHA256>" of msg under a key
// derived (HKDF) for purpose from the current master key, so that a token
// signed before a rotation still verifies while its old key is configured.
func (k *Keyring) Sign(purpose string, msg []byte) string {
	key, _ := k.macKey(k.current, purpose)
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return strconv.Itoa(int(k.current)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports, in constant time, whether sig is what Sign(purpose, msg)
// made under any configured key version.
func (k *Keyring) Verify(purpose string, msg []byte, sig string) bool {
	vs, b64, ok := strings.Cut(sig, ".")
	if !ok {
		return false
	}
	v, err := strconv.ParseUint(vs, 10, 16)
	if err != nil {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return false
	}
	key, ok := k.macKey(uint16(v), purpose)
	if !ok {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hmac.Equal(m.Sum(nil), got)
}
