package wire

import "encoding/json"

// Event is an event as the API shows it and as webhooks deliver it (the
// Standard Webhooks envelope); Data is the object itself, as the API
// answers it.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// WebhookEndpoint is a webhook endpoint as the API shows it; Secret only
// when the endpoint is created or its secret rotated.
type WebhookEndpoint struct {
	ID                      string   `json:"id"`
	URL                     string   `json:"url"`
	Description             string   `json:"description"`
	Events                  []string `json:"events"`
	Status                  string   `json:"status"`
	DisabledReason          *string  `json:"disabled_reason"`
	Secret                  string   `json:"secret,omitempty"`
	PreviousSecretExpiresAt *string  `json:"previous_secret_expires_at"`
	CreatedAt               string   `json:"created_at"`
}

// WithoutSecret is e without its secret, as a late replay answers it.
func (e WebhookEndpoint) WithoutSecret() any {
	e.Secret = ""
	return e
}

// Deleted answers the deletion of an object.
type Deleted struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// WebhookDelivery is the hand-over of one event to one endpoint, with
// every attempt made so far, oldest first.
type WebhookDelivery struct {
	ID            string           `json:"id"`
	Event         string           `json:"event"`
	Endpoint      string           `json:"endpoint"`
	Status        string           `json:"status"`
	AttemptCount  int              `json:"attempt_count"`
	NextAttemptAt *string          `json:"next_attempt_at"`
	CreatedAt     string           `json:"created_at"`
	CompletedAt   *string          `json:"completed_at"`
	Attempts      []WebhookAttempt `json:"attempts"`
}

// WebhookAttempt is one POST of a delivery.
type WebhookAttempt struct {
	AttemptedAt  string  `json:"attempted_at"`
	StatusCode   *int    `json:"status_code"`
	LatencyMS    int64   `json:"latency_ms"`
	ResponseBody string  `json:"response_body"`
	Error        *string `json:"error"`
}

// WebhookPing is how an endpoint answered a test ping: the event sent and
// the one attempt.
type WebhookPing struct {
	Event        Event   `json:"event"`
	Succeeded    bool    `json:"succeeded"`
	StatusCode   *int    `json:"status_code"`
	LatencyMS    int64   `json:"latency_ms"`
	ResponseBody string  `json:"response_body"`
	Error        *string `json:"error"`
}
