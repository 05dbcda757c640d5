package links

import (
	"bytes"
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/id"
)

func signer(t *testing.T, keys ...SigningKey) *Signer {
	t.Helper()
	s, err := NewSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	keyA = SigningKey{ID: "a", Secret: bytes.Repeat([]byte{1}, 32)}
	keyB = SigningKey{ID: "b", Secret: bytes.Repeat([]byte{2}, 32)}
)

func TestSignatureCoversEveryPart(t *testing.T) {
	s := signer(t, keyA, keyB)
	linkID := id.New("plink")
	exp := time.Unix(1767225600, 0)
	q := s.Query(linkID, exp)
	if q.Get("exp") != "1767225600" || q.Get("kid") != "a" || len(q.Get("sig")) != 43 {
		t.Fatalf("query = %v", q)
	}
	got, err := s.Verify(linkID, q.Get("exp"), q.Get("kid"), q.Get("sig"))
	if err != nil || !got.Equal(exp) {
		t.Fatalf("Verify(good) = %v, %v", got, err)
	}
	flip := func(s string) string {
		b := []byte(s)
		if b[len(b)-2] == 'A' {
			b[len(b)-2] = 'B'
		} else {
			b[len(b)-2] = 'A'
		}
		return string(b)
	}
	otherID := id.New("plink")
	tests := []struct{ name, id, exp, kid, sig string }{
		{"other id", otherID, q.Get("exp"), "a", q.Get("sig")},
		{"edited id", flip(linkID), q.Get("exp"), "a", q.Get("sig")},
		{"later exp", linkID, "1767225601", "a", q.Get("sig")},
		{"exp with leading zero", linkID, "01767225600", "a", q.Get("sig")},
		{"exp with plus", linkID, "+1767225600", "a", q.Get("sig")},
		{"exp not a number", linkID, "soon", "a", q.Get("sig")},
		{"empty exp", linkID, "", "a", q.Get("sig")},
		{"other known kid", linkID, q.Get("exp"), "b", q.Get("sig")},
		{"unknown kid", linkID, q.Get("exp"), "zz", q.Get("sig")},
		{"empty kid", linkID, q.Get("exp"), "", q.Get("sig")},
		{"edited sig", linkID, q.Get("exp"), "a", flip(q.Get("sig"))},
		{"truncated sig", linkID, q.Get("exp"), "a", q.Get("sig")[:40]},
		{"padded sig", linkID, q.Get("exp"), "a", q.Get("sig") + "="},
		{"sig not base64", linkID, q.Get("exp"), "a", "!!!"},
		{"empty sig", linkID, q.Get("exp"), "a", ""},
		{"not a link id", "pay_" + linkID[6:], q.Get("exp"), "a", q.Get("sig")},
	}
	for _, tt := range tests {
		if _, err := s.Verify(tt.id, tt.exp, tt.kid, tt.sig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", tt.name, err)
		}
	}
}

func TestKeyRotationKeepsOldLinksWorking(t *testing.T) {
	linkID := id.New("plink")
	exp := time.Now().Add(time.Hour)
	old := signer(t, keyA).Query(linkID, exp)
	rotated := signer(t, keyB, keyA) // new key first, old kept for verification
	if _, err := rotated.Verify(linkID, old.Get("exp"), old.Get("kid"), old.Get("sig")); err != nil {
		t.Fatalf("a link signed before the rotation stopped working: %v", err)
	}
	if q := rotated.Query(linkID, exp); q.Get("kid") != "b" {
		t.Fatalf("new links signed with %q, want the new key b", q.Get("kid"))
	}
	retired := signer(t, keyB) // old key removed
	if _, err := retired.Verify(linkID, old.Get("exp"), old.Get("kid"), old.Get("sig")); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a link signed with a removed key still verifies: %v", err)
	}
}

func TestNewSignerRefusesWeakKeys(t *testing.T) {
	for name, keys := range map[string][]SigningKey{
		"none":      nil,
		"short":     {{ID: "a", Secret: []byte("short")}},
		"no id":     {{ID: "", Secret: keyA.Secret}},
		"duplicate": {keyA, {ID: "a", Secret: keyB.Secret}},
	} {
		if _, err := NewSigner(keys); err == nil {
			t.Errorf("%s: NewSigner accepted", name)
		}
	}
}

func TestServiceVerifyChecksExpiryAfterSignature(t *testing.T) {
	now := time.Unix(1767225600, 0)
	base, _ := url.Parse("https://pay.example")
	svc := NewService(signer(t, keyA), base, func() time.Time { return now })
	l := &Link{ID: id.New("plink"), ExpiresAt: now.Add(time.Minute)}
	q := svc.signer.Query(l.ID, l.ExpiresAt)
	if err := svc.Verify(l.ID, q.Get("exp"), q.Get("kid"), q.Get("sig")); err != nil {
		t.Fatalf("fresh link: %v", err)
	}
	now = now.Add(time.Minute) // exactly at exp
	if err := svc.Verify(l.ID, q.Get("exp"), q.Get("kid"), q.Get("sig")); !errors.Is(err, ErrExpired) {
		t.Fatalf("at exp: %v, want ErrExpired", err)
	}
	// A past exp with a bad signature is a bad signature, not "expired":
	// nothing about the link is revealed.
	if err := svc.Verify(l.ID, strconv.FormatInt(now.Unix()-10, 10), q.Get("kid"), q.Get("sig")); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("edited past exp: %v, want ErrBadSignature", err)
	}
	u, err := url.Parse(svc.URL(l))
	if err != nil || u.Host != "pay.example" || u.Path != "/pay/"+l.ID || u.Query().Get("sig") == "" {
		t.Fatalf("URL = %s", svc.URL(l))
	}
}
