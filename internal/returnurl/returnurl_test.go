package returnurl

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paylink/paylink/internal/wire"
)

// vectors is testdata/return_vectors.json, computed with openssl.
type vectors struct {
	Keys  wire.ReturnKeys   `json:"keys"`
	Seeds map[string]string `json:"seeds"`
	Valid []struct {
		Name, Target, Payment, Status, Source, Kid, URL string
		TS                                              int64
	} `json:"valid"`
	Invalid []struct{ Name, URL string } `json:"invalid"`
}

func readVectors(t *testing.T) vectors {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/return_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Valid) == 0 || len(v.Invalid) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

// keysFirst returns the vectors' keys with kid first.
func keysFirst(t *testing.T, v vectors, kid string) []Key {
	t.Helper()
	var out []Key
	for _, k := range v.Keys.Keys {
		seed, err := hex.DecodeString(v.Seeds[k.KID])
		if err != nil {
			t.Fatal(err)
		}
		key := Key{ID: k.KID, Private: ed25519.NewKeyFromSeed(seed)}
		if k.KID == kid {
			out = append([]Key{key}, out...)
		} else {
			out = append(out, key)
		}
	}
	return out
}

// The Go signer makes exactly the URLs openssl's signatures make, and
// Verify accepts them and refuses every edit.
func TestVectors(t *testing.T) {
	t.Parallel()
	v := readVectors(t)
	for _, c := range v.Valid {
		t.Run(c.Name, func(t *testing.T) {
			s, err := NewSigner(keysFirst(t, v, c.Kid), func() time.Time { return time.Unix(c.TS, 0) })
			if err != nil {
				t.Fatal(err)
			}
			r := Return{Payment: c.Payment, Status: c.Status, Source: c.Source}
			got, err := s.URL(c.Target, r)
			if err != nil || got != c.URL {
				t.Fatalf("URL(%s) = %s, %v\nwant %s", c.Target, got, err, c.URL)
			}
			back, at, err := Verify(c.URL, v.Keys)
			if err != nil || back != r || at.Unix() != c.TS {
				t.Fatalf("Verify = %+v at %s, %v; want %+v at %d", back, at, err, r, c.TS)
			}
		})
	}
	for _, c := range v.Invalid {
		t.Run(c.Name, func(t *testing.T) {
			if r, _, err := Verify(c.URL, v.Keys); !errors.Is(err, ErrInvalid) {
				t.Errorf("Verify(%s) = %+v, %v; want ErrInvalid", c.URL, r, err)
			}
		})
	}
	s, _ := NewSigner(keysFirst(t, v, "r2"), time.Now)
	if diff := cmp.Diff(v.Keys, s.PublicKeys()); diff != "" {
		t.Errorf("PublicKeys (-vectors +got):\n%s", diff)
	}
}

func TestSignerAndKeys(t *testing.T) {
	t.Parallel()
	seed := base64.StdEncoding.EncodeToString(make([]byte, 32))
	keys, err := ParseKeys("new:" + seed + ", old:" + strings.TrimRight(base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 32))), "="))
	if err != nil || len(keys) != 2 || keys[0].ID != "new" || keys[1].ID != "old" {
		t.Fatalf("ParseKeys = %v, %v", keys, err)
	}
	for _, bad := range []string{"", "new", "new:" + seed[:10], "bad kid:" + seed} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
	if _, err := NewSigner(nil, time.Now); err == nil {
		t.Error("NewSigner without keys succeeded")
	}
	if _, err := NewSigner([]Key{keys[0], keys[0]}, time.Now); err == nil {
		t.Error("NewSigner with a repeated kid succeeded")
	}
	s, err := NewSigner(keys, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"javascript:alert(1)", "/relative", "https://"} {
		if _, err := s.URL(target, Return{Payment: "pay_1", Status: "succeeded", Source: "plink_1"}); err == nil {
			t.Errorf("URL(%q) succeeded", target)
		}
	}
	// A return signed by the old key verifies while it is published, and
	// not once it is removed.
	old, _ := NewSigner([]Key{keys[1]}, time.Now)
	u, err := old.URL("https://shop.test/ok", Return{Payment: "pay_1", Status: "succeeded", Source: "plink_1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Verify(u, s.PublicKeys()); err != nil {
		t.Errorf("a return of the old key during rotation: %v", err)
	}
	current, _ := NewSigner(keys[:1], time.Now)
	if _, _, err := Verify(u, current.PublicKeys()); !errors.Is(err, ErrInvalid) {
		t.Errorf("a return of a removed key: %v; want ErrInvalid", err)
	}
}
