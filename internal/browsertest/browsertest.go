// Package browsertest drives a real headless Chromium (Debian's chromium
// package) through the Chrome DevTools Protocol for end-to-end tests of the
// checkout, wallet and embed pages, and saves screenshots as artifacts.
package browsertest

import (
	"context"
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
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 means PNG; anything less is JPEG
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", step, err)
	}
	dir := filepath.Join(repoRoot(t), ArtifactsDir, safe(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, safe(step)+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safe(s string) string { return unsafe.ReplaceAllString(s, "_") }

// repoRoot walks up from the working directory to the folder with go.mod.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("browsertest: go.mod not found above the working directory")
		}
		dir = parent
	}
}
