package seal

import (
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	old, err := Parse("1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	sig := old.Sign("session", []byte("ses_1.1700000000"))
	if !strings.HasPrefix(sig, "1.") {
		t.Fatalf("Sign = %q, want the key version first", sig)
	}
	if !old.Verify("session", []byte("ses_1.1700000000"), sig) {
		t.Fatal("Verify refused its own signature")
	}
	for _, tc := range []struct{ name, purpose, msg, sig string }{
		{"other message", "session", "ses_1.1700000001", sig},
		{"other purpose", "link", "ses_1.1700000000", sig},
		{"unknown version", "session", "ses_1.1700000000", "9" + sig[1:]},
		{"tampered mac", "session", "ses_1.1700000000", sig[:len(sig)-2] + "AA"},
		{"no version", "session", "ses_1.1700000000", sig[2:]},
		{"empty", "session", "ses_1.1700000000", ""},
	} {
		if old.Verify(tc.purpose, []byte(tc.msg), tc.sig) {
			t.Errorf("%s: Verify accepted %q", tc.name, tc.sig)
		}
	}
	rotated, err := Parse("2:" + key(2) + ",1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	if !rotated.Verify("session", []byte("ses_1.1700000000"), sig) {
		t.Error("a signature made before rotation no longer verifies")
	}
	if s2 := rotated.Sign("session", []byte("x")); !strings.HasPrefix(s2, "2.") || old.Verify("session", []byte("x"), s2) {
		t.Errorf("after rotation Sign = %q; want version 2, unknown to the old keyring", s2)
	}
}
