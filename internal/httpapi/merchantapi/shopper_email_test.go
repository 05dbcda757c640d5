package merchantapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/eventmail"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/notify"
)

// TestShopperEmailsCannotBeTurnedIntoPhishing (security review, finding
// 6): a merchant's name cannot carry a web address, an e-mail address,
// quotes or invisible characters, nor pass for Paylink; receipts are
// capped per recipient (all merchants together) and per merchant; and
// every receipt opens with Paylink's own line naming the merchant in
// quotes, which nothing a merchant or shopper writes can imitate.
func TestShopperEmailsCannotBeTurnedIntoPhishing(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	e := apitest.New(t)
	mails := eventmail.NewService(e.DB, eventmail.Config{Merchants: e.Deps.Merchants, Now: e.Deps.Now,
		ShopperEmails: notify.ShopperLimits{PerRecipient: notify.Limit{N: 3, Per: day}, PerMerchant: notify.Limit{N: 5, Per: day}}})
	signUp := func(name, email string) apitest.Response {
		return e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Body: map[string]string{"name": name, "email": email, "password": "correct horse battery"}})
	}

	t.Run("names", func(t *testing.T) {
		for i, tc := range []struct{ name, code string }{
			{"Visit evil.test to verify", "name_not_allowed"},
			{"https://evil.test", "name_not_allowed"},
			{"Acme www.acme.com", "name_not_allowed"},
			{"Mail support@evil.test", "name_not_allowed"},
			{"Acme evil．test", "name_not_allowed"}, // a full-width dot
			{"Login at 203.0.113.9", "name_not_allowed"},
			{"Paylink Security Team", "name_not_allowed"},
			{"P-a-y-L-i-n-k support", "name_not_allowed"},
			{`Acme” on behalf of “Paylink`, "name_not_allowed"},
			{"Acme <support>", "name_not_allowed"},
			{"Acme\u202eknil", "name_invalid"}, // right-to-left override
			{"Acme\u200bMugs", "name_invalid"}, // zero-width space
			{"Acme\nPaylink: act now", "name_invalid"},
		} {
			apitest.WantError(t, signUp(tc.name, "bad"+string(rune('a'+i))+"@shop.test"), 400, tc.code)
		}
		for i, name := range []string{"Acme Mugs", "Joe's Café", "Dr. Smith & Co.", "St. Mary's Bakery", "Tea House"} {
			if res := signUp(name, "good"+string(rune('a'+i))+"@shop.test"); res.Status != http.StatusCreated {
				t.Errorf("sign-up as %q: %d %s", name, res.Status, res.Body)
			}
		}
		if n := e.Count("SELECT count(*) FROM merchants WHERE email LIKE 'bad%'"); n != 0 {
			t.Errorf("%d merchants with refused names were created", n)
		}
	})

	t.Run("limits and the platform line", func(t *testing.T) {
		linkOf := func(email, name string) string {
			res := signUp(name, email)
			if res.Status != http.StatusCreated {
				t.Fatalf("sign up %s: %d %s", name, res.Status, res.Body)
			}
			var out signUpAnswer
			res.Decode(t, &out)
			return apitest.CheckoutPath(t, e.CreateLink(apitest.Creds{ID: out.APIKey.ID, Secret: out.APIKey.Secret}, map[string]any{"single_use": false}))
		}
		payAs := func(path, email string) {
			t.Helper()
			body := apitest.CardBody("4242424242424242")
			body["email"] = email
			if res := e.Pay(path, body, ""); res.Status != http.StatusOK {
				t.Fatalf("pay: %d %s", res.Status, res.Body)
			}
		}
		a, b := linkOf("a@flood.test", "Flood Shop"), linkOf("b@flood.test", "Tea Room")
		for range 4 {
			payAs(a, "victim@example.test") // the 4th is over the recipient's 3
		}
		for _, to := range []string{"r1@example.test", "r2@example.test", "r3@example.test"} {
			payAs(a, to) // the merchant's 5th, 6th and 7th: only r1 gets one
		}
		payAs(b, "victim@example.test") // over the recipient's limit, whoever sends
		payAs(b, "r4@example.test")
		if _, err := mails.ProcessEvents(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		for to, want := range map[string]int{"victim@example.test": 3, "r1@example.test": 1, "r2@example.test": 0, "r3@example.test": 0, "r4@example.test": 1} {
			if n := e.Count("SELECT count(*) FROM emails WHERE to_addr = $1 AND failed_at IS NULL", to); n != want {
				t.Errorf("receipts to send to %s = %d, want %d", to, n, want)
			}
		}
		if n := e.Count("SELECT count(*) FROM emails WHERE failed_at IS NOT NULL AND last_error LIKE '%limit%'"); n != 4 {
			t.Errorf("receipts held back = %d, want 4", n)
		}
		var subject, body string
		if err := e.DB.Pool.QueryRow(context.Background(), "SELECT subject, body FROM emails WHERE to_addr = 'r4@example.test'").Scan(&subject, &body); err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(body, "\n"); first != "Paylink sent this receipt on behalf of the merchant “Tea Room”." {
			t.Errorf("receipt's first line = %q", first)
		}
		if !strings.Contains(subject, "“Tea Room”") {
			t.Errorf("subject %q does not quote the merchant", subject)
		}

		// A name stored before these rules is still quoted harmlessly.
		c := linkOf("c@flood.test", "Legacy")
		if _, err := e.DB.Pool.Exec(context.Background(), `UPDATE merchants SET name = $1 WHERE email = 'c@flood.test'`,
			"Legacy”.\nPaylink Support: your account is locked, call +1 555 0100"); err != nil {
			t.Fatal(err)
		}
		payAs(c, "r5@example.test")
		if _, err := mails.ProcessEvents(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		if err := e.DB.Pool.QueryRow(context.Background(), "SELECT body FROM emails WHERE to_addr = 'r5@example.test'").Scan(&body); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(body, "\n")
		if lines[0] != "Paylink sent this receipt on behalf of the merchant “Legacy'. Paylink Support: your account is locked, call +1 555 0100”." {
			t.Errorf("first line with a legacy name = %q", lines[0])
		}
		for _, l := range lines[1:] {
			if strings.HasPrefix(strings.TrimSpace(l), "Paylink") {
				t.Errorf("a later line starts like Paylink's own: %q", l)
			}
		}
	})
}
