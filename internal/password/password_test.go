package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
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

func TestHasherBoundsConcurrentHashes(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := NewHasher(Config{Slots: 1, Wait: 0, KDF: func(pw, salt []byte, t, m uint32, p uint8, n uint32) []byte {
		entered <- struct{}{}
		<-release
		return make([]byte, n)
	}})
	done := make(chan error)
	go func() {
		_, err := h.Hash(context.Background(), "first")
		done <- err
	}()
	<-entered // the only slot is taken
	_, err := h.Hash(context.Background(), "second")
	var busy *BusyError
	if !errors.As(err, &busy) || !errors.Is(err, ErrBusy) || busy.RetryAfter(time.Now()) < time.Second {
		t.Fatalf("Hash with the slot taken = %v; want a BusyError asking for at least a second", err)
	}
	waiting := NewHasher(Config{Slots: 1, Wait: time.Hour})
	waiting.slots <- struct{}{} // taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := waiting.Verify(ctx, "pw", dummy); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify waiting with a canceled context = %v; want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestAutoSlots(t *testing.T) {
	if n := AutoSlots(); n < 1 || n > runtime.GOMAXPROCS(0) {
		t.Fatalf("AutoSlots() = %d; want 1..GOMAXPROCS (%d)", n, runtime.GOMAXPROCS(0))
	}
	if NewHasher(Config{}).Slots() != AutoSlots() {
		t.Fatal("a Hasher without Slots is not AutoSlots wide")
	}
}
