package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/paylink/paylink/"

// edgeMayUse are the only packages of ours the edge may depend on, even
// indirectly: errors, ids, the Idempotency-Key records, PostgreSQL, sealed
// secrets (the records are sealed), and the list envelope of package wire.
var edgeMayUse = []string{"internal/apperr", "internal/id", "internal/idempotency", "internal/logevery", "internal/postgres",
	"internal/seal", "internal/wire", "migrations"}

// TestImportRules keeps the HTTP edge in its rooms, reading the import
// graph from go list -deps:
//   - the edge, and the packages below it (edge/apidoc), import no domain
//     package (only edgeMayUse and one another);
//   - an audience (a package under internal/httpapi other than edge and
//     apitest, with its sections in the folders below it, like
//     dashboard/linkpages) imports no other audience, nor the server that
//     assembles them, nor apitest;
//   - no package outside internal/httpapi and cmd imports Gin or any
//     package of internal/httpapi.
func TestImportRules(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-deps", "-json", module+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	type pkg struct {
		ImportPath string
		Deps       []string
	}
	var pkgs []pkg
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p.ImportPath, module) {
			pkgs = append(pkgs, p)
		}
	}
	const http = module + "internal/httpapi"
	// audienceOf names the audience a package belongs to ("" for none).
	audienceOf := func(path string) string {
		rest, ok := strings.CutPrefix(path, http+"/")
		rest, _, _ = strings.Cut(rest, "/")
		if !ok || rest == "edge" || rest == "apitest" {
			return ""
		}
		return rest
	}
	audiences := 0
	for _, p := range pkgs {
		ours := func(yield func(string) bool) {
			for _, d := range p.Deps {
				if strings.HasPrefix(d, module) && !yield(strings.TrimPrefix(d, module)) {
					return
				}
			}
		}
		switch {
		case p.ImportPath == http+"/edge", strings.HasPrefix(p.ImportPath, http+"/edge/"):
			for d := range ours {
				if !slices.Contains(edgeMayUse, d) && d != "internal/httpapi/edge" && !strings.HasPrefix(d, "internal/httpapi/edge/") {
					t.Errorf("the edge depends on %s; it may use only %v", d, edgeMayUse)
				}
			}
		case audienceOf(p.ImportPath) != "":
			audiences++
			own := audienceOf(p.ImportPath)
			for d := range ours {
				full := module + d
				if other := audienceOf(full); full == http || full == http+"/apitest" || other != "" && other != own {
					t.Errorf("audience %s depends on %s; audiences import the edge and the domains only", p.ImportPath, d)
				}
			}
		case strings.HasPrefix(p.ImportPath, http), strings.HasPrefix(p.ImportPath, module+"cmd/"):
		default:
			for _, d := range p.Deps {
				if strings.HasPrefix(d, "github.com/gin-gonic/gin") || d == http || strings.HasPrefix(d, http+"/") {
					t.Errorf("%s depends on %s; only internal/httpapi and cmd know HTTP routing", p.ImportPath, d)
				}
			}
		}
	}
	if audiences < 3 {
		t.Fatalf("found %d audience packages under internal/httpapi; the rules read nothing", audiences)
	}
}
