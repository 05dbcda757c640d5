package links

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/money"
)

// signedVectors are the cases sdk/js's tests check too, computed
// independently of both implementations.
type signedVectors struct {
	Cases []struct {
		Secret    string            `json:"secret"`
		Params    map[string]string `json:"params"`
		Canonical string            `json:"canonical"`
		Sig       string            `json:"sig"`
	} `json:"cases"`
}

func loadSignedVectors(t *testing.T) signedVectors {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/signed_link_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v signedVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) < 3 {
		t.Fatalf("only %d vectors", len(v.Cases))
	}
	return v
}

func TestSignedLinkVectors(t *testing.T) {
	base, _ := url.Parse("https://pay.example")
	for i, c := range loadSignedVectors(t).Cases {
		if got := CanonicalSigned(c.Params); got != c.Canonical {
			t.Errorf("case %d: canonical\n got %q\nwant %q", i, got, c.Canonical)
		}
		u, err := url.Parse(SignedURL(base, c.Secret, c.Params))
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query().Get("sig"); got != c.Sig {
			t.Errorf("case %d: sig = %s, want %s", i, got, c.Sig)
		}
		// The server's side: parse the query as a browser sends it and
		// verify with the secret; another secret fails.
		sl, err := ParseSigned(u.RawQuery)
		if err != nil {
			t.Fatalf("case %d: parse: %v", i, err)
		}
		if err := sl.Verify(c.Secret); err != nil {
			t.Errorf("case %d: verify: %v", i, err)
		}
		if err := sl.Verify(c.Secret + "x"); !errors.Is(err, ErrBadSignature) {
			t.Errorf("case %d: verify with another secret = %v", i, err)
		}
		// Any value changed breaks the signature.
		for name := range c.Params {
			q := u.Query()
			q.Set(name, q.Get(name)+"1")
			edited, err := ParseSigned(q.Encode())
			if err == nil {
				err = edited.Verify(c.Secret)
			}
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("case %d: %s edited: %v", i, name, err)
			}
		}
	}
}

func TestParseSignedRefusesOddQueries(t *testing.T) {
	good := "amount=1&currency=USD&exp=1&key=key_01m8000000000000000000000a&ref=r&sig=" + strings.Repeat("A", 43)
	if _, err := ParseSigned(good); err != nil {
		t.Fatalf("well-formed query: %v", err)
	}
	for name, q := range map[string]string{
		"unknown parameter": good + "&utm_source=x",
		"repeated":          good + "&ref=r2",
		"missing ref":       strings.Replace(good, "ref=r&", "", 1),
		"empty amount":      strings.Replace(good, "amount=1", "amount=", 1),
		"bad key id":        strings.Replace(good, "key_01m8000000000000000000000a", "key_x", 1),
		"padded sig":        good + "=",
		"short sig":         strings.Replace(good, strings.Repeat("A", 43), "AAAA", 1),
		"bad escape":        good + "&description=%zz",
		"huge":              good + "&description=" + strings.Repeat("a", 7000),
	} {
		if _, err := ParseSigned(q); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", name, err)
		}
	}
}

func TestSignedValidate(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	set, _ := money.ParseSet(money.DefaultAccepted)
	valid := map[string]string{"key": "key_01m8000000000000000000000a", "amount": "2500", "currency": "usd",
		"ref": "order-17", "exp": "1800003600", "description": " Blue mug ", "success_url": "https://shop.test/ok"}
	parse := func(edit map[string]string) *Signed {
		p := map[string]string{}
		for k, v := range valid {
			p[k] = v
		}
		for k, v := range edit {
			if v == "" {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		u, _ := url.Parse(SignedURL(&url.URL{Scheme: "https", Host: "pay.example"}, "sk_test_x", p))
		sl, err := ParseSigned(u.RawQuery)
		if err != nil {
			t.Fatal(err)
		}
		return sl
	}
	sl := parse(nil)
	if err := sl.Validate(set, now); err != nil {
		t.Fatal(err)
	}
	if sl.Amount != (money.Amount{Minor: 2500, Currency: money.USD}) || sl.Description != "Blue mug" ||
		sl.SuccessURL != "https://shop.test/ok" || !sl.ExpiresAt.Equal(time.Unix(1800003600, 0)) {
		t.Fatalf("validated link = %+v", sl)
	}
	tests := []struct {
		name  string
		edit  map[string]string
		want  error
		param string
	}{
		{"expired", map[string]string{"exp": "1800000000"}, ErrExpired, ""},
		{"exp beyond 90 days", map[string]string{"exp": "1807776001"}, ErrSignedInvalid, "exp"},
		{"exp not canonical", map[string]string{"exp": "01800003600"}, ErrSignedInvalid, "exp"},
		{"zero amount", map[string]string{"amount": "0"}, ErrSignedInvalid, "amount"},
		{"decimal amount", map[string]string{"amount": "25.00"}, ErrSignedInvalid, "amount"},
		{"huge amount", map[string]string{"amount": "100000000"}, ErrSignedInvalid, "amount"},
		{"unsupported currency", map[string]string{"currency": "XAF"}, ErrSignedInvalid, "currency"},
		{"reference with a space", map[string]string{"ref": "a b"}, ErrSignedInvalid, "ref"},
		{"reference too long", map[string]string{"ref": strings.Repeat("r", 65)}, ErrSignedInvalid, "ref"},
		{"long description", map[string]string{"description": strings.Repeat("d", 501)}, ErrSignedInvalid, "description"},
		{"javascript url", map[string]string{"success_url": "javascript:alert(1)"}, ErrSignedInvalid, "success_url"},
		{"relative cancel url", map[string]string{"cancel_url": "/cancel"}, ErrSignedInvalid, "cancel_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := parse(tc.edit).Validate(set, now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
			if e, _ := apperr.As(err); tc.param != "" && e.Param != tc.param {
				t.Fatalf("param of %v = %q, want %q", err, e.Param, tc.param)
			}
		})
	}
}
