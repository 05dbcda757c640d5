package apitest

import (
	"net/url"
	"strconv"
	"time"

	"github.com/paylink/paylink/internal/links"
)

// SignedParams are the parameters of a stateless signed link (/pay/s) of
// key c: 25.00 USD for reference order-17, expiring in an hour, with
// success and cancel URLs; edit changes them (an empty value removes the
// parameter).
func (e *Env) SignedParams(c Creds, edit map[string]string) map[string]string {
	p := map[string]string{"key": c.ID, "amount": "2500", "currency": "USD", "ref": "order-17",
		"exp": strconv.FormatInt(e.Clock.Now().Add(time.Hour).Unix(), 10), "description": "Blue mug & saucer",
		"success_url": "https://shop.example/ok?order=17", "cancel_url": "https://shop.example/cancel"}
	for k, v := range edit {
		if v == "" {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return p
}

// SignedPath is the path and query of a signed link of key c (see
// SignedParams), signed with c's secret.
func (e *Env) SignedPath(c Creds, edit map[string]string) string {
	return SignWith(c.Secret, e.SignedParams(c, edit))
}

// SignWith is the path and query of a signed link of params, signed with
// secret.
func SignWith(secret string, params map[string]string) string {
	u, _ := url.Parse(links.SignedURL(&url.URL{Scheme: "http", Host: "paylink.test"}, secret, params))
	return u.Path + "?" + u.RawQuery
}
