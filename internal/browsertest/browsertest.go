// Package browsertest drives a real headless Chromium (Debian's chromium
// package) through the Chrome DevTools Protocol for end-to-end tests of the
// checkout, wallet and embed pages, and saves screenshots as artifacts.
package browsertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ArtifactsDir is where screenshots go, relative to the repository root.
const ArtifactsDir = "artifacts/screenshots"

// New starts a fresh headless Chromium with its own profile and returns a
// context for chromedp actions, cancelled (and the browser stopped) when t
// ends. It fails the test when Chromium is not installed.
func New(t testing.TB) context.Context {
	t.Helper()
	bin := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("browsertest: start chromium: %v", err)
	}
	return ctx
}

func chromiumPath(t testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("browsertest: chromium not found; `make test` installs Debian's chromium package")
	return ""
}

// Screenshot saves a full-page PNG of the current page as
// artifacts/screenshots/<test name>/<step>.png under the repository root.
func Screenshot(t testing.TB, ctx context.Context, step string) {
	t.Helper()
	// A page still loading, or navigating away, has no layout to capture
	// (Chrome answers "0 width"): wait until it has one, and retry a
	// capture that still fails until WaitTimeout.
	Wait(t, ctx, `document.readyState === "complete" && document.documentElement.scrollWidth > 0`)
	deadline := time.Now().Add(WaitTimeout)
	for {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 means PNG; anything less is JPEG
		if err == nil {
			if err := saveScreenshot(t, step, png); err != nil {
				t.Fatal(err)
			}
			return
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("browsertest: screenshot %s: %v", step, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("browsertest: screenshot %s: %v (%v)", step, err, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

// saveScreenshot writes png as step's screenshot of t.
func saveScreenshot(t testing.TB, step string, png []byte) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, ArtifactsDir, safe(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, safe(step)+".png"), png, 0o644)
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safe(s string) string { return unsafe.ReplaceAllString(s, "_") }

// repoRoot walks up from the working directory to the folder with go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("browsertest: go.mod not found above the working directory")
		}
		dir = parent
	}
}
