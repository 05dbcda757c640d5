package httpapi

import (
	"strings"
	"testing"
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

func TestBuildOpenAPI(t *testing.T) {
	doc, err := buildOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"openapi": "3.1.0"`, `"/v1/api_keys/{id}"`, `"APIKey"`, `"securitySchemes"`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("merged document lacks %s", want)
		}
	}
}
