package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

func key(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func TestSealOpenRotation(t *testing.T) {
	old, err := Parse("1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	sealedOld := old.Seal([]byte("sk_test_abc"), []byte("key_1"))
	if bytes.Contains(sealedOld, []byte("sk_test_abc")) {
		t.Fatal("sealed value contains the plaintext")
	}
	rotated, err := Parse("2:" + key(2) + ",1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	got, err := rotated.Open(sealedOld, []byte("key_1"))
	if err != nil || string(got) != "sk_test_abc" {
		t.Fatalf("Open(old) = %q, %v; want the plaintext", got, err)
	}
	sealedNew := rotated.Seal([]byte("x"), nil)
	if Version(sealedNew) != 2 || Version(sealedOld) != 1 {
		t.Fatalf("versions = %d, %d; want 2, 1", Version(sealedNew), Version(sealedOld))
	}
	if _, err := old.Open(sealedNew, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open with a keyring lacking version 2: err = %v, want ErrOpen", err)
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	k, _ := Parse("1:" + key(7))
	s := k.Seal([]byte("secret"), []byte("row-a"))
	if _, err := k.Open(s, []byte("row-b")); !errors.Is(err, ErrOpen) {
		t.Errorf("Open with other aad: err = %v, want ErrOpen", err)
	}
	s[len(s)-1] ^= 1
	if _, err := k.Open(s, []byte("row-a")); !errors.Is(err, ErrOpen) {
		t.Errorf("Open of flipped bit: err = %v, want ErrOpen", err)
	}
	if _, err := k.Open([]byte{0}, nil); !errors.Is(err, ErrOpen) {
		t.Errorf("Open of short input: err = %v, want ErrOpen", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, spec := range []string{"", "1", "0:" + key(1), "1:short", "1:" + key(1) + ",1:" + key(2), "x:" + key(1)} {
		if _, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", spec)
		}
	}
}

func TestDerive(t *testing.T) {
	k, err := Parse("2:" + key(2) + ",1:" + key(1) + ",7:" + key(7))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Versions(); len(got) != 3 || got[0] != 2 || got[1] != 7 || got[2] != 1 {
		t.Fatalf("Versions() = %v, want [2 7 1]", got)
	}
	a, ok1 := k.Derive(2, "links")
	b, ok2 := k.Derive(2, "links")
	c, _ := k.Derive(2, "other")
	d, _ := k.Derive(1, "links")
	if !ok1 || !ok2 || len(a) != 32 || string(a) != string(b) {
		t.Fatal("Derive is not a stable 32-byte key")
	}
	if string(a) == string(c) || string(a) == string(d) {
		t.Fatal("different purposes or versions derive the same key")
	}
	if _, ok := k.Derive(3, "links"); ok {
		t.Fatal("derived a key for an unknown version")
	}
}
