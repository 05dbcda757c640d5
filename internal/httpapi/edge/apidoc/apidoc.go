// Package apidoc builds Paylink's published OpenAPI document from the
// route declarations (edge.Route) and the audiences' openapi/*.json parts,
// so the document and the mounted routes cannot disagree.
package apidoc

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/paylink/paylink/internal/httpapi/edge"
)

// openAPIBase is the frame of the published document: info, servers, the
// default security and the components every part may use (errors, the
// rate-limit answer, the Idempotency-Key and pagination parameters).
//
//go:embed openapi_base.json
var openAPIBase []byte

// Build builds the OpenAPI document of routes. Each of parts holds
// openapi/*.json files of the form
//
//	{"operations": {"<operationId>": {summary, parameters, requestBody, responses}},
//	 "components": {…}}
//
// Every route's Doc names one operation, placed at the route's path and
// method; what the route declares is added to it, never written by hand:
// its security (from Auth), the API-key scope it needs as
// x-paylink-scope with the 403 answer (Scope), the Idempotency-Key
// parameter (Idempotent; with the 409 and 422 answers it brings, unless
// the operation writes them), the 429 answer (Limit), and for a JSON
// operation taking a body the 413 every route gives past 64 KiB. It is an error for a route to name no operation
// or one named already, for an operation to document no route, for a part
// to write what the declarations decide, and for two parts to define a
// component differently.
func Build(routes []edge.Route, parts ...fs.FS) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIBase, &doc); err != nil {
		return nil, fmt.Errorf("openapi base: %w", err)
	}
	ops, err := readParts(doc, parts)
	if err != nil {
		return nil, err
	}
	defaultScheme := ""
	if sec, ok := doc["security"].([]any); ok && len(sec) == 1 {
		for name := range sec[0].(map[string]any) {
			defaultScheme = name
		}
	}
	paths := map[string]any{}
	used := map[string]bool{}
	for _, r := range routes {
		op, ok := ops[r.Doc]
		switch {
		case !ok:
			return nil, fmt.Errorf("openapi: route %s %s names operation %q, which no part defines", r.Method, r.Path, r.Doc)
		case used[r.Doc]:
			return nil, fmt.Errorf("openapi: operation %q documents two routes", r.Doc)
		}
		used[r.Doc] = true
		op = maps.Clone(op)
		op["operationId"] = r.Doc
		switch {
		case r.Auth.Check == nil:
			op["security"] = []any{}
		case r.Auth.Scheme != defaultScheme:
			op["security"] = []any{map[string]any{r.Auth.Scheme: []any{}}}
		}
		if r.Idempotent {
			params, _ := op["parameters"].([]any)
			op["parameters"] = append(slices.Clone(params), map[string]any{"$ref": "#/components/parameters/IdempotencyKey"})
		}
		responses := maps.Clone(op["responses"].(map[string]any))
		if r.Scope != "" {
			op["x-paylink-scope"] = r.Scope
			responses["403"] = map[string]any{"$ref": "#/components/responses/Error"}
		}
		if r.Limit != edge.Unlimited {
			responses["429"] = map[string]any{"$ref": "#/components/responses/RateLimited"}
		}
		if r.Idempotent {
			idempotencyAnswers(responses)
		}
		if _, ok := op["requestBody"]; ok {
			bodyTooLarge(responses)
		}
		op["responses"] = responses
		path := edge.OpenAPIPath(r.Path)
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(r.Method)] = op
	}
	var unused []string
	for id := range ops {
		if !used[id] {
			unused = append(unused, id)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		return nil, fmt.Errorf("openapi: operations documenting no route: %s", strings.Join(unused, ", "))
	}
	doc["paths"] = paths
	return json.MarshalIndent(doc, "", "  ")
}

// idempotencyAnswers adds to an idempotent JSON operation's responses
// what its Idempotency-Key may answer (API.md: 409 idempotency_key_in_use,
// 422 idempotency_key_reused), in the error envelope its 400 answer
// uses; an operation that writes its own keeps it, and a page's (an
// HTML 400, no envelope) gets none.
func idempotencyAnswers(responses map[string]any) {
	bad, _ := responses["400"].(map[string]any)
	ref, ok := bad["$ref"].(string)
	if !ok {
		return
	}
	for _, status := range []string{"409", "422"} {
		if _, ok := responses[status]; !ok {
			responses[status] = map[string]any{"$ref": ref}
		}
	}
}

// bodyTooLarge adds to a JSON operation that takes a body the 413
// body_too_large every route answers past 64 KiB (the edge caps every
// body), in the error envelope its 400 answer uses (a shared answer or
// its own JSON content); an operation that writes its own keeps it, and
// a page's (an HTML 400) gets none.
func bodyTooLarge(responses map[string]any) {
	if _, written := responses["413"]; written {
		return
	}
	bad, _ := responses["400"].(map[string]any)
	if ref, ok := bad["$ref"].(string); ok {
		responses["413"] = map[string]any{"$ref": ref}
		return
	}
	content, _ := bad["content"].(map[string]any)
	if js, ok := content["application/json"]; ok {
		responses["413"] = map[string]any{"description": "body_too_large: the body is over 64 KiB.",
			"content": map[string]any{"application/json": js}}
	}
}

// readParts merges the parts' components into doc and returns their
// operations by id.
func readParts(doc map[string]any, parts []fs.FS) (map[string]map[string]any, error) {
	ops := map[string]map[string]any{}
	for _, part := range parts {
		names, err := fs.Glob(part, "openapi/*.json")
		if err != nil {
			return nil, err
		}
		sort.Strings(names)
		for _, name := range names {
			raw, err := fs.ReadFile(part, name)
			if err != nil {
				return nil, err
			}
			var p struct {
				Operations map[string]map[string]any `json:"operations"`
				Components map[string]any            `json:"components"`
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, fmt.Errorf("openapi %s: %w", name, err)
			}
			if err := mergeInto(doc, map[string]any{"components": p.Components}, name); err != nil {
				return nil, err
			}
			for id, op := range p.Operations {
				if _, dup := ops[id]; dup {
					return nil, fmt.Errorf("openapi %s: operation %q is defined twice", name, id)
				}
				if err := declaredOnly(op); err != nil {
					return nil, fmt.Errorf("openapi %s: operation %q: %w", name, id, err)
				}
				ops[id] = op
			}
		}
	}
	return ops, nil
}

// declaredOnly refuses an operation that writes what the route's
// declaration decides, so the two can never disagree.
func declaredOnly(op map[string]any) error {
	for _, k := range []string{"security", "operationId", "x-paylink-scope"} {
		if _, ok := op[k]; ok {
			return fmt.Errorf("%q comes from the route's declaration", k)
		}
	}
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		if m, ok := p.(map[string]any); ok && (m["$ref"] == "#/components/parameters/IdempotencyKey" || m["name"] == "Idempotency-Key") {
			return fmt.Errorf("the Idempotency-Key parameter comes from the route's Idempotent")
		}
	}
	if responses, ok := op["responses"].(map[string]any); !ok {
		return fmt.Errorf("no responses")
	} else if _, ok := responses["429"]; ok {
		return fmt.Errorf("the 429 answer comes from the route's Limit")
	}
	return nil
}

// mergeInto adds src to dst: objects merge key by key, anything else must
// not conflict.
func mergeInto(dst, src map[string]any, where string) error {
	for k, v := range src {
		cur, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		cm, ok1 := cur.(map[string]any)
		vm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			if err := mergeInto(cm, vm, where+"."+k); err != nil {
				return err
			}
			continue
		}
		if !reflect.DeepEqual(cur, v) {
			return fmt.Errorf("openapi: %s.%s is defined twice differently", where, k)
		}
	}
	return nil
}
