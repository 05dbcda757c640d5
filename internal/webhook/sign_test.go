package webhook

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestVectors checks Sign and the test's independent verifier against
// testdata/webhook_vectors.json, whose expected signatures were computed
// with openssl; the JS SDK checks the same file.
func TestVectors(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/webhook_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Name              string `json:"name"`
			Secret            string `json:"secret"`
			MsgID             string `json:"msg_id"`
			Timestamp         int64  `json:"timestamp"`
			Payload           string `json:"payload"`
			ExpectedSignature string `json:"expected_signature"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 3 {
		t.Fatalf("only %d vectors", len(doc.Cases))
	}
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := Sign(c.Secret, c.MsgID, c.Timestamp, []byte(c.Payload))
			if err != nil || got != c.ExpectedSignature {
				t.Fatalf("Sign = %q, %v; want %q", got, err, c.ExpectedSignature)
			}
			h := http.Header{}
			h.Set("webhook-id", c.MsgID)
			h.Set("webhook-timestamp", strconv.FormatInt(c.Timestamp, 10))
			h.Set("webhook-signature", c.ExpectedSignature)
			if err := verify(c.Secret, h, []byte(c.Payload)); err != nil {
				t.Fatalf("independent verifier: %v", err)
			}
			if err := verify(c.Secret, h, []byte(c.Payload+" ")); err == nil {
				t.Fatal("independent verifier accepted a changed payload")
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %q, %q: want distinct whsec_ values", a, b)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(key) < 24 {
		t.Fatalf("secret key is %d bytes (%v); want at least 24", len(key), err)
	}
	if _, err := Sign("sk_not_a_webhook_secret", "evt_1", 1, nil); err == nil {
		t.Fatal("Sign accepted a secret without whsec_")
	}
}

func TestSignatureHeaderCarriesEverySecret(t *testing.T) {
	s1, s2 := NewSecret(), NewSecret()
	body := []byte(`{"id":"evt_1"}`)
	h, err := signatureHeader([]string{s1, s2}, "evt_1", 1700000000, body)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, " ")
	want1, _ := Sign(s1, "evt_1", 1700000000, body)
	want2, _ := Sign(s2, "evt_1", 1700000000, body)
	if len(parts) != 2 || parts[0] != want1 || parts[1] != want2 {
		t.Fatalf("header %q; want %q and %q space-separated", h, want1, want2)
	}
}
