package walletapp_test

import (
	"encoding/json"
	"strings"
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

// TestWalletMessagesNameTheCardsBrandAsPeopleWriteIt: notifications and
// their e-mails say "your Visa card", not the brand's code "visa".
func TestWalletMessagesNameTheCardsBrandAsPeopleWriteIt(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	s := e.WalletUser("brand@example.test")
	s.TopUp(1000, "USD")
	if res := withdraw(s, 300, "USD", "5555 5555 5555 4444"); res.Status != 201 {
		t.Fatalf("withdraw: %d %s", res.Status, res.Body)
	}
	n := s.Notifications("")
	var got []string
	for _, x := range n.Data {
		got = append(got, x.Message)
	}
	want := []string{"You are withdrawing $3.00 to your Mastercard card ending in 4444.",
		"You added $10.00 to your wallet with your Visa card ending in 4242."}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("notifications = %q, want %q", got, want)
	}
	if n := e.Count("SELECT count(*) FROM emails WHERE to_addr = 'brand@example.test' AND subject LIKE '%Visa card ending in 4242%'"); n != 1 {
		t.Errorf("%d top-up e-mails name the Visa card", n)
	}
}

// TestWalletPageTitlesAgree: every wallet page's title names the page and
// then Paylink, the same way, so a tab or a history entry reads alike.
func TestWalletPageTitlesAgree(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	for path, want := range map[string]string{
		"/wallet/login":  "<title>Log in to your wallet · Paylink</title>",
		"/wallet/signup": "<title>Create your wallet · Paylink</title>",
	} {
		res := e.Do(apitest.Req{Method: "GET", Path: path})
		if res.Status != 200 || !strings.Contains(string(res.Body), want) {
			t.Errorf("GET %s: %d, want %s in\n%.400s", path, res.Status, want, res.Body)
		}
	}
}
