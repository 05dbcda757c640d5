package merchantapi_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

// TestSecretBearingRepliesReplaySecretsForAnHourOnly (security review,
// finding 7): a retried POST /v1/api_keys, POST /v1/webhook_endpoints, POST
// …/rotate_secret or merchant sign-up replays its first answer, secret
// included, for an hour; after that the replay is the same object without
// the secret. The stored answer never holds a secret in plaintext.
func TestSecretBearingRepliesReplaySecretsForAnHourOnly(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	signUp := apitest.Req{Method: "POST", Path: "/v1/merchants", Header: map[string]string{"Idempotency-Key": "signup-1"},
		Body: map[string]string{"name": "Replay Shop", "email": "replay@shop.test", "password": "correct horse battery"}}
	su := e.Do(signUp)
	var signed signUpAnswer
	su.Decode(t, &signed)
	key := apitest.Creds{ID: signed.APIKey.ID, Secret: signed.APIKey.Secret}
	if su.Status != http.StatusCreated || key.Secret == "" {
		t.Fatalf("sign-up: %d %s", su.Status, su.Body)
	}
	newKey := apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &key, Header: map[string]string{"Idempotency-Key": "key-1"}, Body: map[string]any{}}
	newEndpoint := apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints", Auth: &key, Header: map[string]string{"Idempotency-Key": "we-1"},
		Body: map[string]any{"url": "https://hooks.shop.test/paylink", "events": []string{"*"}}}
	var k wire.APIKey
	e.Do(newKey).Decode(t, &k)
	var we wire.WebhookEndpoint
	e.Do(newEndpoint).Decode(t, &we)
	rotate := apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + we.ID + "/rotate_secret", Auth: &key,
		Header: map[string]string{"Idempotency-Key": "rot-1"}, Body: map[string]any{}}
	var rotated wire.WebhookEndpoint
	e.Do(rotate).Decode(t, &rotated)
	secrets := []string{key.Secret, k.Secret, we.Secret, rotated.Secret}
	for _, s := range secrets {
		if s == "" {
			t.Fatalf("a create answered no secret: %v", secrets)
		}
	}

	// Within the hour a retry gets the secret again.
	e.Clock.Advance(59 * time.Minute)
	var again wire.APIKey
	res := e.Do(newKey)
	if res.Decode(t, &again); res.Header.Get("Idempotent-Replayed") != "true" || again.Secret != k.Secret {
		t.Fatalf("replay within the hour: %s", res.Body)
	}

	// At rest, no stored answer holds a secret in plaintext.
	rows, err := e.DB.Pool.Query(context.Background(), "SELECT * FROM idempotency_keys")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		vals, _ := rows.Values()
		for _, v := range vals {
			for _, s := range secrets {
				if b, ok := v.([]byte); ok && bytes.Contains(b, []byte(s)) {
					t.Errorf("a stored answer holds a secret in plaintext")
				}
				if str, ok := v.(string); ok && str == s {
					t.Errorf("a stored answer holds a secret in plaintext")
				}
			}
		}
	}
	rows.Close()

	// After it, a retry still replays the object, without the secret.
	e.Clock.Advance(2 * time.Minute)
	var lateSignUp signUpAnswer
	res = e.Do(signUp)
	if res.Decode(t, &lateSignUp); res.Status != http.StatusCreated || res.Header.Get("Idempotent-Replayed") != "true" ||
		lateSignUp.APIKey.ID != key.ID || lateSignUp.APIKey.Secret != "" || lateSignUp.Merchant.ID != signed.Merchant.ID {
		t.Errorf("sign-up replayed after an hour: %d %s", res.Status, res.Body)
	}
	var lateKey wire.APIKey
	res = e.Do(newKey)
	if res.Decode(t, &lateKey); res.Status != http.StatusCreated || res.Header.Get("Idempotent-Replayed") != "true" ||
		lateKey.ID != k.ID || lateKey.Secret != "" || bytes.Contains(res.Body, []byte(`"secret"`)) {
		t.Errorf("api key replayed after an hour: %d %s", res.Status, res.Body)
	}
	for _, r := range []apitest.Req{newEndpoint, rotate} {
		var lateEndpoint wire.WebhookEndpoint
		res = e.Do(r)
		if res.Decode(t, &lateEndpoint); res.Header.Get("Idempotent-Replayed") != "true" || lateEndpoint.ID != we.ID || lateEndpoint.Secret != "" {
			t.Errorf("%s replayed after an hour: %d %s", r.Path, res.Status, res.Body)
		}
	}
	// The same key with another request is still refused.
	other := newKey
	other.Body = map[string]any{"unexpected": true}
	if res := e.Do(other); res.Status != 400 && res.Status != 422 {
		t.Errorf("another request under the key: %d", res.Status)
	}
}
