// Package sizes_test keeps Paylink's code in rooms a newcomer can read: no
// package over MaxPackageLines non-test lines and no non-test .go file over
// MaxFileLines (issue 13). It runs in make lint. Split what grows past a
// limit along its seams (a sub-package per audience or concern, a file per
// part of a package) rather than raising the limit.
package sizes_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	// MaxPackageLines is the most non-test lines one package may have.
	MaxPackageLines = 1500
	// MaxFileLines is the most lines one non-test .go file may have.
	MaxFileLines = 500
)

// packageExceptions are packages allowed past MaxPackageLines for now,
// each with why and until when (none). Remove an entry once its package
// is under the limit (the test fails when one is, so the list cannot go
// stale).
var packageExceptions = map[string]string{}

// fileExceptions are files allowed past MaxFileLines for now (none).
var fileExceptions = map[string]string{}

// TestSizes fails for every package of the module with more than
// MaxPackageLines non-test lines and every non-test .go file with more
// than MaxFileLines, naming it, its size and the limit.
func TestSizes(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-json", "github.com/paylink/paylink/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	root := ""
	type pkg struct {
		ImportPath, Dir string
		Module          *struct{ Dir string }
	}
	var pkgs []pkg
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Module != nil {
			root = p.Module.Dir
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 || root == "" {
		t.Fatalf("go list found %d packages (module root %q); the check reads nothing", len(pkgs), root)
	}
	seenPkg, seenFile := map[string]bool{}, map[string]bool{}
	for _, p := range pkgs {
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		// Every .go file of the folder, whatever its build tags.
		names, err := filepath.Glob(filepath.Join(p.Dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			n := bytes.Count(b, []byte("\n"))
			total += n
			file := rel + "/" + filepath.Base(name)
			if _, ok := fileExceptions[file]; ok {
				seenFile[file] = n > MaxFileLines
			} else if n > MaxFileLines {
				t.Errorf("%s has %d lines; a non-test .go file may have at most %d: split it along its seams", file, n, MaxFileLines)
			}
		}
		if _, ok := packageExceptions[rel]; ok {
			seenPkg[rel] = total > MaxPackageLines
		} else if total > MaxPackageLines {
			t.Errorf("package %s has %d non-test lines; a package may have at most %d: split it into packages named for what they hold",
				rel, total, MaxPackageLines)
		}
	}
	stale := func(what string, exceptions map[string]string, over map[string]bool) {
		keys := make([]string, 0, len(exceptions))
		for k := range exceptions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !over[k] {
				t.Errorf("%s %s is excepted from the size limit but is within it (or gone): remove its exception", what, k)
			}
		}
	}
	stale("package", packageExceptions, seenPkg)
	stale("file", fileExceptions, seenFile)
}
