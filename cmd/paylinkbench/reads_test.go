package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/paylink/paylink/cmd/paylinkbench/seed"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// The reads benchmark runs a read only when the API's OpenAPI document
// lists what it needs; the document names most query parameters through
// components, so each of readTargets' needs must be found through them.
func TestServedPathsFindsEveryRead(t *testing.T) {
	e := apitest.New(t)
	served, err := servedPaths(context.Background(), http.DefaultClient, e.Base)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readTargets(0, e.Clock.Now()) {
		if r.needs != "" && !served[r.needs] {
			t.Errorf("%s needs %s, which the OpenAPI document does not list (it lists %d paths and parameters)", r.name, r.needs, len(served))
		}
	}
	if served["/v1/payments?no_such_filter"] {
		t.Error("servedPaths finds a parameter that does not exist")
	}
}

// The dashboard reads sign in as the merchant does in a browser: the
// session then opens the payments page, and a wrong password is refused
// before any read runs.
func TestDashboardLoginOpensThePayments(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	mid, _ := e.SignUp("bench@shop.test")
	client := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if err := dashboardLogin(ctx, client(), e.Base, apitest.Origin, seed.Merchant{ID: mid, Email: "bench@shop.test", Password: "wrong password!"}); err == nil {
		t.Fatal("a wrong password logged in")
	}
	c := client()
	if err := dashboardLogin(ctx, c, e.Base, apitest.Origin, seed.Merchant{ID: mid, Email: "bench@shop.test", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Get(e.Base + "/dashboard/payments")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Shop bench") {
		t.Fatalf("GET /dashboard/payments after the log-in: %d %.300s", res.StatusCode, body)
	}
}
