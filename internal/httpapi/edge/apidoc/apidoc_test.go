package apidoc

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/edge"
)

func TestMergeIntoRefusesConflicts(t *testing.T) {
	dst := map[string]any{"paths": map[string]any{"/a": map[string]any{"get": "x"}}}
	if err := mergeInto(dst, map[string]any{"paths": map[string]any{"/a": map[string]any{"post": "y"}}}, "part2"); err != nil {
		t.Fatalf("merging a new method: %v", err)
	}
	if err := mergeInto(dst, map[string]any{"paths": map[string]any{"/a": map[string]any{"get": "x"}}}, "part3"); err != nil {
		t.Fatalf("merging an identical definition: %v", err)
	}
	err := mergeInto(dst, map[string]any{"paths": map[string]any{"/a": map[string]any{"get": "z"}}}, "part4")
	if err == nil || !strings.Contains(err.Error(), "part4.paths./a.get") {
		t.Fatalf("conflicting definition: err = %v, want one naming part4.paths./a.get", err)
	}
}

// part is an OpenAPI part with the operations ops (id → JSON object).
func part(ops map[string]string, components string) fstest.MapFS {
	var b strings.Builder
	b.WriteString(`{"operations": {`)
	first := true
	for id, op := range ops {
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(`"` + id + `": ` + op)
	}
	b.WriteString(`}`)
	if components != "" {
		b.WriteString(`, "components": ` + components)
	}
	b.WriteString(`}`)
	return fstest.MapFS{"openapi/part.json": {Data: []byte(b.String())}}
}

func noop(*gin.Context) error { return nil }

// TestOpenAPIComesFromTheDeclarations: what a route declares (who may
// call it, its Idempotency-Key, its rate limit) is written into its
// operation, which sits at the route's path and method.
func TestOpenAPIComesFromTheDeclarations(t *testing.T) {
	session := edge.Auth{Name: "session", Scheme: "session", Check: func(*gin.Context) (edge.Caller, error) { return edge.Caller{}, nil }}
	key := edge.Auth{Name: "API key", Scheme: "apiKey", Check: session.Check}
	routes := []edge.Route{
		{Method: "POST", Path: "/v1/things", Auth: key, Scope: "things:write", Limit: edge.PerCaller, Idempotent: true, Doc: "createThing", Handle: noop},
		{Method: "GET", Path: "/v1/things/:id", Auth: session, Doc: "getThing", Handle: noop},
		{Method: "GET", Path: "/files/*file", Doc: "getFile", Handle: noop},
	}
	ok := `{"summary": "s", "parameters": [{"$ref": "#/components/parameters/ID"}], "responses": {"200": {"description": "ok"}}}`
	doc, err := Build(routes, part(map[string]string{"createThing": ok, "getThing": ok, "getFile": ok},
		`{"securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "s"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		OpenAPI    string `json:"openapi"`
		Components struct {
			SecuritySchemes map[string]any `json:"securitySchemes"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			OperationID string           `json:"operationId"`
			Scope       string           `json:"x-paylink-scope"`
			Security    *[]any           `json:"security"`
			Parameters  []map[string]any `json:"parameters"`
			Responses   map[string]any   `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	create, get, file := d.Paths["/v1/things"]["post"], d.Paths["/v1/things/{id}"]["get"], d.Paths["/files/{file}"]["get"]
	if d.OpenAPI != "3.1.0" || d.Components.SecuritySchemes["apiKey"] == nil || d.Components.SecuritySchemes["session"] == nil {
		t.Fatalf("document frame: %s", doc)
	}
	if create.OperationID != "createThing" || create.Security != nil || len(create.Parameters) != 2 ||
		create.Parameters[1]["$ref"] != "#/components/parameters/IdempotencyKey" || create.Responses["429"] == nil ||
		create.Scope != "things:write" || create.Responses["403"] == nil {
		t.Errorf("POST /v1/things (API key, scoped, idempotent, limited) = %+v", create)
	}
	if get.Security == nil || len(*get.Security) != 1 || len(get.Parameters) != 1 || get.Responses["429"] != nil ||
		get.Scope != "" || get.Responses["403"] != nil {
		t.Errorf("GET /v1/things/{id} (session) = %+v", get)
	}
	if file.Security == nil || len(*file.Security) != 0 {
		t.Errorf("GET /files/{file} (public) = %+v; want security []", file)
	}
}

func TestOpenAPIRefusesDrift(t *testing.T) {
	ok := `{"responses": {"200": {"description": "ok"}}}`
	r := edge.Route{Method: "GET", Path: "/a", Doc: "getA", Handle: noop}
	tests := []struct {
		name   string
		routes []edge.Route
		ops    map[string]string
		want   string
	}{
		{"route without operation", []edge.Route{r}, map[string]string{}, `names operation "getA"`},
		{"operation without route", []edge.Route{r}, map[string]string{"getA": ok, "getB": ok}, "documenting no route: getB"},
		{"operation for two routes", []edge.Route{r, {Method: "GET", Path: "/b", Doc: "getA", Handle: noop}},
			map[string]string{"getA": ok}, "documents two routes"},
		{"hand-written security", []edge.Route{r}, map[string]string{"getA": `{"security": [], "responses": {}}`}, `"security" comes from`},
		{"hand-written key", []edge.Route{r}, map[string]string{"getA": `{"parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}], "responses": {}}`},
			"Idempotency-Key parameter"},
		{"hand-written 429", []edge.Route{r}, map[string]string{"getA": `{"responses": {"429": {}}}`}, "429 answer"},
		{"hand-written scope", []edge.Route{r}, map[string]string{"getA": `{"x-paylink-scope": "a:read", "responses": {}}`}, `"x-paylink-scope" comes from`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.routes, part(tt.ops, ""))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// postResponses reads an OpenAPI document's POST responses: path → status
// → response.
func postResponses(t *testing.T, doc []byte) map[string]map[string]map[string]any {
	t.Helper()
	var d struct {
		Paths map[string]map[string]struct {
			Responses map[string]map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]map[string]any{}
	for path, ops := range d.Paths {
		if post, ok := ops["post"]; ok {
			out[path] = post.Responses
		}
	}
	return out
}

// TestOpenAPIDocumentsIdempotencyAnswers: an idempotent JSON route answers
// 409 idempotency_key_in_use and 422 idempotency_key_reused (API.md), so
// its operation documents them in its own error envelope even when its
// part does not; a form page (HTML 400) and a route without the key get
// none, and an answer the part writes is kept.
func TestOpenAPIDocumentsIdempotencyAnswers(t *testing.T) {
	routes := []edge.Route{
		{Method: "POST", Path: "/v1/things", Limit: edge.PerCaller, Idempotent: true, Doc: "createThing", Handle: noop},
		{Method: "POST", Path: "/v1/seed", Idempotent: true, Doc: "seedThing", Handle: noop},
		{Method: "POST", Path: "/v1/login", Doc: "logIn", Handle: noop},
		{Method: "POST", Path: "/things", Idempotent: true, Doc: "thingForm", Handle: noop},
	}
	jsonOp := `{"responses": {"201": {"description": "ok"}, "400": {"$ref": "#/components/responses/Error"}}}`
	doc, err := Build(routes, part(map[string]string{
		"createThing": jsonOp,
		"seedThing": `{"responses": {"201": {"description": "ok"}, "400": {"$ref": "#/components/responses/SeedError"},
			"409": {"description": "e-mail taken"}}}`,
		"logIn":     jsonOp,
		"thingForm": `{"responses": {"303": {"description": "done"}, "400": {"description": "the form again", "content": {"text/html": {}}}}}`,
	}, ""))
	if err != nil {
		t.Fatal(err)
	}
	d := postResponses(t, doc)
	ref := func(path, status string) any { return d[path][status]["$ref"] }
	for _, tt := range []struct {
		path, status string
		want         any
	}{
		{"/v1/things", "409", "#/components/responses/Error"},
		{"/v1/things", "422", "#/components/responses/Error"},
		{"/v1/seed", "409", nil}, // written by the part: kept
		{"/v1/seed", "422", "#/components/responses/SeedError"},
		{"/v1/login", "409", nil},
		{"/v1/login", "422", nil},
		{"/things", "409", nil},
		{"/things", "422", nil},
	} {
		if got := ref(tt.path, tt.status); got != tt.want {
			t.Errorf("POST %s answer %s = %v; want %v", tt.path, tt.status, got, tt.want)
		}
	}
	if d["/v1/seed"]["409"]["description"] != "e-mail taken" {
		t.Errorf("POST /v1/seed 409 = %v; want the part's own", d["/v1/seed"]["409"])
	}
	if _, ok := d["/things"]["422"]; ok {
		t.Errorf("POST /things (a form page) documents 422: %v", d["/things"])
	}
}

// TestOpenAPIDocumentsBodyTooLarge: every route refuses a body over 64 KiB
// with 413 body_too_large (API.md), so every JSON operation taking a body
// documents it in its own error envelope; one without a body, a form
// page (HTML 400) and an answer the part writes are left as they are.
func TestOpenAPIDocumentsBodyTooLarge(t *testing.T) {
	routes := []edge.Route{
		{Method: "POST", Path: "/v1/things", Doc: "createThing", Handle: noop},
		{Method: "POST", Path: "/v1/seed", Doc: "seedThing", Handle: noop},
		{Method: "POST", Path: "/v1/things/:id/archive", Doc: "archiveThing", Handle: noop},
		{Method: "POST", Path: "/v1/things/:id/refunds", Doc: "refundThing", Handle: noop},
		{Method: "POST", Path: "/things", Doc: "thingForm", Handle: noop},
	}
	envelope := map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}
	body := `"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}`
	doc, err := Build(routes, part(map[string]string{
		"createThing": `{` + body + `, "responses": {"201": {"description": "ok"}, "400": {"$ref": "#/components/responses/Error"}}}`,
		"seedThing": `{` + body + `, "responses": {"201": {"description": "ok"}, "400": {"$ref": "#/components/responses/SeedError"},
			"413": {"description": "too big"}}}`,
		"archiveThing": `{"responses": {"200": {"description": "ok"}, "400": {"$ref": "#/components/responses/Error"}}}`,
		"refundThing": `{` + body + `, "responses": {"201": {"description": "ok"}, "400": {"description": "refund_exceeds_payment",
			"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}`,
		"thingForm": `{"requestBody": {"content": {"application/x-www-form-urlencoded": {}}},
			"responses": {"303": {"description": "done"}, "400": {"description": "the form again", "content": {"text/html": {}}}}}`,
	}, ""))
	if err != nil {
		t.Fatal(err)
	}
	d := postResponses(t, doc)
	for _, tt := range []struct {
		path string
		want map[string]any
	}{
		{"/v1/things", map[string]any{"$ref": "#/components/responses/Error"}},
		{"/v1/seed", map[string]any{"description": "too big"}},
		{"/v1/things/{id}/archive", nil},
		{"/v1/things/{id}/refunds", map[string]any{"description": "body_too_large: the body is over 64 KiB.", "content": envelope}},
		{"/things", nil},
	} {
		if got := d[tt.path]["413"]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("POST %s answer 413 = %v; want %v", tt.path, got, tt.want)
		}
	}
}
