package browsertest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserRunsScriptsAndSavesScreenshots(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/app.js" {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `document.getElementById("out").textContent = "ran " + (2 + 3);`)
			return
		}
		fmt.Fprint(w, `<!doctype html><p id="out">not run</p><script src="/app.js"></script>`)
	}))
	defer srv.Close()
	ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text("#out"))
	if err != nil {
		t.Fatal(err)
	}
	if text != "ran 5" {
		t.Fatalf("page text = %q, want the script's output", text)
	}
	Screenshot(t, ctx, "page")
	png, err := os.ReadFile(filepath.Join(repoRoot(t), ArtifactsDir, safe(t.Name()), "page.png"))
	if err != nil {
		t.Fatalf("screenshot not saved: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot is not a PNG (starts %x)", png[:min(8, len(png))])
	}
}
