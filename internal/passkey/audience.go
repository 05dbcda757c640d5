package passkey

import (
	"encoding/base64"
	"encoding/json"

	"github.com/paylink/paylink/internal/apperr"
)

// Audience is whose passkeys a Service keeps. Each audience has its own
// tables (passkeys and webauthn_challenges for wallet users,
// merchant_passkeys and merchant_webauthn_challenges for merchants), so
// nothing one audience begins or registers can be used by the other,
// although both share the relying party and so the authenticators.
type Audience int

// The audiences.
const (
	Wallet    Audience = iota // wallet users (usr_…)
	Merchants                 // merchants logging in to the dashboard (mer_…)
)

// ErrMerchantStepUpRequired is ErrStepUpRequired as a merchant reads it.
var ErrMerchantStepUpRequired = &apperr.Error{Kind: apperr.Forbidden, Code: "passkey_step_up_required", Param: "password",
	Message: "Confirm it's you first: enter your password, or confirm with one of your passkeys."}

// For returns a Service of the same relying party keeping a's passkeys.
func (s *Service) For(a Audience) *Service {
	c := *s
	c.audience, c.q = a, queriesOf(a)
	return &c
}

// ClaimedOwner returns the owner id an assertion's user handle names,
// before anything is verified: what a log-in may reserve a lock-out
// attempt for. It returns ErrAssertionInvalid when there is none.
func ClaimedOwner(assertion []byte) (string, error) {
	var a struct {
		Response struct {
			UserHandle string `json:"userHandle"`
		} `json:"response"`
	}
	if err := json.Unmarshal(assertion, &a); err != nil {
		return "", ErrAssertionInvalid.Wrap(err)
	}
	h, err := base64.RawURLEncoding.DecodeString(a.Response.UserHandle)
	if err != nil || len(h) == 0 {
		return "", ErrAssertionInvalid
	}
	return string(h), nil
}
