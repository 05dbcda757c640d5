package js

import (
	"regexp"
	"testing"
)

// TestVersionsAgree: the versioned URLs are cached for a year, so the
// version the server puts in them (package.json's) must be the one the
// script reports.
func TestVersionsAgree(t *testing.T) {
	v, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	src, err := Files.ReadFile("paylink.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`var VERSION = "([^"]+)";`).FindSubmatch(src)
	if m == nil || string(m[1]) != v {
		t.Fatalf("paylink.js VERSION = %q, package.json version = %q", m, v)
	}
}
