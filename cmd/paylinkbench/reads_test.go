package main

import (
	"context"
	"net/http"
	"testing"

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
