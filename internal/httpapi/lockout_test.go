package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/password"
)

// TestLoginLockoutHoldsUnderParallelGuesses (security review, finding 2):
// 50 wrong passwords and the right one, sent at once for one e-mail, get
// at most PAYLINK_LOGIN_MAX_FAILURES (10) passwords checked, however the
// requests interleave; the right one logs in only if it was among them,
// and once the address is locked the right password is refused too.
func TestLoginLockoutHoldsUnderParallelGuesses(t *testing.T) {
	t.Parallel()
	gate := newKDFGate()
	e := apitest.New(t, withHasher(t, password.NewHasher(password.Config{Slots: 100, Wait: 10 * time.Minute, KDF: gate.kdf})))
	e.WalletUser("target@example.test")
	const wrong, right = 50, 23 // right is the index of the right password among the 51
	res := heldBurst(t, gate, wrong+1, func(i int) apitest.Response {
		pw := "wrong password " + strconv.Itoa(i)
		if i == right {
			pw = apitest.WalletPassword
		}
		return e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login",
			Body: map[string]string{"email": "target@example.test", "password": pw}})
	})
	checked, _ := gate.counts()
	if checked > 10 {
		t.Fatalf("%d of %d passwords were checked; the lock-out allows 10", checked, wrong+1)
	}
	answered := 0
	for i, r := range res {
		switch {
		case r.Status == http.StatusTooManyRequests:
			apitest.WantError(t, r, 429, "account_locked")
		case i == right && r.Status == http.StatusOK:
			answered++
		default:
			apitest.WantError(t, r, 401, "invalid_credentials")
			answered++
		}
	}
	if answered != checked {
		t.Errorf("%d passwords checked but %d answered 200 or 401", checked, answered)
	}
	apitest.WantError(t, e.NewShopper().Do(apitest.Req{Method: "POST", Path: "/v1/wallet/login",
		Body: map[string]string{"email": "target@example.test", "password": apitest.WalletPassword}}), 429, "account_locked")
}
