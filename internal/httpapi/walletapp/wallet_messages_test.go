package walletapp_test

import (
	"encoding/json"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/httpapi/edge"
)

// TestWalletTransferToABadAddressSaysSoInWords: the wallet page shows
// the API's message as it is, so a mistyped receiver reads as words,
// like sign-up's "The e-mail address is not valid.", not as the field
// name receiver_email (which param still carries).
func TestWalletTransferToABadAddressSaysSoInWords(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("words@example.test")
	res := s.Transfer("not an email", 100, "USD", nil)
	apitest.WantError(t, res, 400, "email_invalid")
	var b edge.ErrorBody
	if err := json.Unmarshal(res.Body, &b); err != nil {
		t.Fatal(err)
	}
	if b.Error.Message != "The receiver's e-mail address is not valid." || b.Error.Param != "receiver_email" {
		t.Errorf("error = %+v", b.Error)
	}
}
