// Package js embeds the browser SDK (paylink.js, paylink.mjs, and
// return.mjs with verifyReturn) so that the API server can serve it at
// /sdk/…, and reads its version from package.json.
package js

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
)

// Files holds paylink.js, paylink.mjs, return.mjs and package.json.
//
//go:embed paylink.js paylink.mjs return.mjs package.json
var Files embed.FS

var semver = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// Version returns the SDK's version from package.json, the path segment of
// its long-cached URLs.
func Version() (string, error) {
	raw, err := Files.ReadFile("package.json")
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil || !semver.MatchString(pkg.Version) {
		return "", fmt.Errorf("sdk/js/package.json: no version x.y.z (%v)", err)
	}
	return pkg.Version, nil
}
