package httpapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"sort"
)

// openAPIFiles are the parts of the published OpenAPI document: base.json
// (info, shared components) and one file per area of the API, each with
// its "paths" and the "components" only it uses.
//
//go:embed openapi/*.json
var openAPIFiles embed.FS

// buildOpenAPI merges the parts into one document. A path+method or a
// component defined twice with different content is an error.
func buildOpenAPI() ([]byte, error) {
	names, err := fs.Glob(openAPIFiles, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var doc map[string]any
	for _, name := range names {
		raw, err := openAPIFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := json.Unmarshal(raw, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if doc == nil {
			doc = map[string]any{}
		}
		if err := mergeInto(doc, part, name); err != nil {
			return nil, err
		}
	}
	return json.MarshalIndent(doc, "", "  ")
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
