package password

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	p := NewHasher(Config{})
	h, err := p.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h, "correct horse") {
		t.Fatal("hash contains the password")
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("Hash = %q, want argon2id PHC string", h)
	}
	if ok, err := p.Verify(ctx, "correct horse battery", h); !ok || err != nil {
		t.Errorf("Verify(right) = %v, %v; want true", ok, err)
	}
	if ok, err := p.Verify(ctx, "correct horse batterY", h); ok || err != nil {
		t.Errorf("Verify(wrong) = %v, %v; want false", ok, err)
	}
	a, _ := p.Hash(ctx, "same")
	b, _ := p.Hash(ctx, "same")
	if a == b {
		t.Error("two hashes of one password are equal: salt missing")
	}
}

func TestVerifyMalformed(t *testing.T) {
	p := NewHasher(Config{})
	for _, h := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=19$m=1,t=1,p=1$!!$AA"} {
		if _, err := p.Verify(context.Background(), "pw", h); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q): err = %v, want ErrMalformed", h, err)
		}
	}
}

func TestDummyIsValid(t *testing.T) {
	if ok, err := NewHasher(Config{}).Verify(context.Background(), "anything", dummy); ok || err != nil {
		t.Fatalf("Verify(dummy) = %v, %v; want false, nil", ok, err)
	}
}
