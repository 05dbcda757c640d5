package browsertest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// WaitTimeout is how long a Wait… helper polls before it fails the test.
// It is generous: on a loaded machine a page may take seconds to react,
// and a test that passes only on a quiet machine is a broken test.
const WaitTimeout = 30 * time.Second

// pollEvery is the pause between two evaluations of a waited-for state.
const pollEvery = 25 * time.Millisecond

// WaitEval evaluates the JavaScript expression expr in ctx's page until
// its value, decoded as T, satisfies ok, and returns that value. A page
// that is navigating or an expression that throws (its element is not
// there yet) is polled again. After WaitTimeout (or ctx's own deadline,
// if sooner) it fails the test with what it saw last, the page's address
// and text, and saves a screenshot. what names the state in that message.
//
// Every assertion on a page goes through this (or WaitText, WaitValue,
// Wait): a page updates itself asynchronously, so reading it right after
// acting on it reads a state it may not have reached yet.
func WaitEval[T any](t testing.TB, ctx context.Context, what, expr string, ok func(T) bool) T {
	t.Helper()
	return waitEval(t, ctx, WaitTimeout, what, expr, ok)
}

func waitEval[T any](t testing.TB, ctx context.Context, timeout time.Duration, what, expr string, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	if d, set := ctx.Deadline(); set && d.Before(deadline) {
		deadline = d
	}
	var (
		last    T
		lastErr error
		seen    bool
	)
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
		if err == nil {
			last, lastErr, seen = v, nil, true
			if ok(v) {
				return v
			}
		} else {
			lastErr = err
		}
		if !time.Now().Add(pollEvery).Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollEvery):
		}
		if ctx.Err() != nil {
			lastErr = ctx.Err()
			break
		}
	}
	saw := "nothing (the expression never evaluated)"
	if seen {
		saw = fmt.Sprintf("%#v", last)
	}
	if lastErr != nil {
		saw += fmt.Sprintf(" (last error: %v)", lastErr)
	}
	t.Fatalf("waited %s for %s: last saw %s\nexpression: %s\n%s", timeout, what, saw, expr, describePage(t, ctx))
	return last
}

// Wait waits until the JavaScript condition cond is true in ctx's page
// (see WaitEval).
func Wait(t testing.TB, ctx context.Context, cond string) {
	t.Helper()
	WaitEval(t, ctx, cond, "!!("+cond+")", func(b bool) bool { return b })
}

// WaitText waits until the text (textContent, trimmed: what the page
// wrote, before any CSS text-transform) of the first element matching the
// CSS selector is want, and fails the test with the text it saw last
// otherwise (see WaitEval).
func WaitText(t testing.TB, ctx context.Context, selector, want string) {
	t.Helper()
	WaitEval(t, ctx, fmt.Sprintf("text of %s to be %q", selector, want), textOf(selector),
		func(s string) bool { return s == want })
}

// WaitValue waits until the value of the form field matching the CSS
// selector is want (see WaitEval).
func WaitValue(t testing.TB, ctx context.Context, selector, want string) {
	t.Helper()
	WaitEval(t, ctx, fmt.Sprintf("value of %s to be %q", selector, want),
		fmt.Sprintf(`(function (e) { return e ? e.value : "<no element>"; })(document.querySelector(%s))`, strconv.Quote(selector)),
		func(s string) bool { return s == want })
}

// textOf is the expression of the trimmed textContent of the first
// element matching selector, or "<no element>".
func textOf(selector string) string {
	return fmt.Sprintf(`(function (e) { return e ? e.textContent.trim() : "<no element>"; })(document.querySelector(%s))`,
		strconv.Quote(selector))
}

// describePage is the address and text of ctx's page for a failure
// message, with a screenshot saved as "failed" when one can be taken. It
// never fails the test itself.
func describePage(t testing.TB, ctx context.Context) string {
	t.Helper()
	// The test's own context may be what ran out; describe the page with
	// a fresh few seconds.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(dctx, chromedp.Location())
	if err != nil {
		loc = fmt.Sprintf("(unknown: %v)", err)
	}
	text, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if png, err := chromedp.Run(dctx, chromedp.FullScreenshot(100)); err == nil {
		if err := saveScreenshot(t, "failed", png); err != nil {
			t.Logf("browsertest: screenshot of the failure: %v", err)
		}
	}
	return fmt.Sprintf("page: %s\npage text: %s", loc, text)
}

// Fill replaces the value of the form field matching the CSS selector
// with text in one insertion, as pasting does: the field is focused, its
// content selected, and text inserted, which fires the beforeinput and
// input events the page listens to. Use it in an out-of-process frame (a
// cross-site iframe's own target): key events sent there travel through
// the browser's idea of which frame has focus, which lags on a loaded
// machine, and keys were lost. In a page's own frame, SendKeys types key
// by key.
func Fill(t testing.TB, ctx context.Context, selector, text string) {
	t.Helper()
	WaitEval(t, ctx, fmt.Sprintf("to fill %s with %q", selector, text), fmt.Sprintf(
		`(function (e, v) { if (!e) { return false; } e.focus(); e.select(); return document.execCommand("insertText", false, v); })(document.querySelector(%s), %s)`,
		strconv.Quote(selector), strconv.Quote(text)), func(inserted bool) bool { return inserted })
}
