package browsertest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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
	WaitText(t, ctx, "#out", "ran 5")
	Screenshot(t, ctx, "page")
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	png, err := os.ReadFile(filepath.Join(root, ArtifactsDir, safe(t.Name()), "page.png"))
	if err != nil {
		t.Fatalf("screenshot not saved: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot is not a PNG (starts %x)", png[:min(8, len(png))])
	}
}

// slowPage is a page whose state changes only some time after the test
// calls start(), and a second page it may navigate to.
func slowPage(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `function start() {
	setTimeout(function () { document.getElementById("out").textContent = "  done\n"; }, 300);
	setTimeout(function () { document.getElementById("field").value = "4242 4242"; }, 400);
	return true;
}
document.getElementById("typed").addEventListener("input", function (e) {
	document.getElementById("echo").textContent = e.inputType + ": " + e.target.value;
});
function leave() { setTimeout(function () { location.href = "/next"; }, 100); return true; }`)
		case "/next":
			fmt.Fprint(w, `<!doctype html><p id="arrived">next page</p>`)
		default:
			fmt.Fprint(w, `<!doctype html><p id="out">waiting</p><input id="field" value=""><input id="typed" value="old">`+
				`<p id="echo"></p><script src="/slow.js"></script>`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestWaitHelpersWaitForTheState: the page changes only after it is
// told to start; the helpers see the change (a read right after start()
// would not), and a poll that spans a navigation carries on there.
func TestWaitHelpersWaitForTheState(t *testing.T) {
	base := slowPage(t)
	ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	WaitText(t, ctx, "#out", "waiting")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`start()`)); err != nil {
		t.Fatal(err)
	}
	WaitText(t, ctx, "#out", "done") // trimmed, as a reader sees it
	WaitValue(t, ctx, "#field", "4242 4242")
	n := WaitEval(t, ctx, "the field's length", `document.getElementById("field").value.length`, func(n int) bool { return n > 0 })
	if n != 9 {
		t.Fatalf("WaitEval returned %d, want the value that satisfied it (9)", n)
	}
	// Fill replaces the value and fires the input event a page listens to.
	Fill(t, ctx, "#typed", "4242 4242")
	WaitValue(t, ctx, "#typed", "4242 4242")
	WaitText(t, ctx, "#echo", "insertText: 4242 4242")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`leave()`)); err != nil {
		t.Fatal(err)
	}
	Wait(t, ctx, `location.pathname === "/next" && document.getElementById("arrived").textContent === "next page"`)
}

// fatalRecorder is a testing.TB whose Fatalf records the message and
// ends the goroutine, as testing.T's does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestWaitFailsWithWhatItSawLast: a state that never comes fails the test
// after the timeout, saying what the page showed instead.
func TestWaitFailsWithWhatItSawLast(t *testing.T) {
	base := slowPage(t)
	ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		waitEval(rec, ctx, 300*time.Millisecond, "the text to be never", textOf("#out"), func(s string) bool { return s == "never" })
	}()
	select {
	case <-done:
	case <-time.After(WaitTimeout):
		t.Fatal("waitEval did not give up after its timeout")
	}
	for _, want := range []string{"the text to be never", `last saw "waiting"`, "page text: waiting", base + "/"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, rec.msg)
		}
	}
	// An expression that keeps throwing reports the error.
	rec.msg = ""
	done = make(chan struct{})
	go func() {
		defer close(done)
		waitEval(rec, ctx, 300*time.Millisecond, "a missing element", `document.getElementById("nope").textContent`,
			func(string) bool { return true })
	}()
	select {
	case <-done:
	case <-time.After(WaitTimeout):
		t.Fatal("waitEval did not give up after its timeout")
	}
	if !strings.Contains(rec.msg, "never evaluated") || !strings.Contains(rec.msg, "last error") {
		t.Errorf("failure message for a throwing expression:\n%s", rec.msg)
	}
}
