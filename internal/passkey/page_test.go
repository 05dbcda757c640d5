package passkey

import (
	"slices"
	"testing"
)

// TestPage: pages run newest first from an oldest-first list, say when
// more follow, and start after the given id.
func TestPage(t *testing.T) {
	keys := []Passkey{{ID: "pk_1"}, {ID: "pk_2"}, {ID: "pk_3"}}
	ids := func(page []*Passkey) []string {
		var out []string
		for _, p := range page {
			out = append(out, p.ID)
		}
		return out
	}
	for _, tc := range []struct {
		after string
		limit int
		want  []string
		more  bool
	}{
		{"", 2, []string{"pk_3", "pk_2"}, true},
		{"", 3, []string{"pk_3", "pk_2", "pk_1"}, false},
		{"pk_3", 1, []string{"pk_2"}, true},
		{"pk_2", 10, []string{"pk_1"}, false},
		{"pk_1", 10, nil, false},
	} {
		page, more := Page(keys, tc.after, tc.limit)
		if !slices.Equal(ids(page), tc.want) || more != tc.more {
			t.Errorf("Page(after %q, limit %d) = %v, %v; want %v, %v", tc.after, tc.limit, ids(page), more, tc.want, tc.more)
		}
	}
}
