package edge

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/idempotency"
)

// Server-rendered pages (the merchant dashboard) post plain HTML forms,
// which a cross-site page can also send. Every browser that can log in
// sends Origin with a POST, and Sec-Fetch-Site with it today, so a form
// POST is refused when its Origin is another site's (or "null" without
// Sec-Fetch-Site: same-origin, as from a sandboxed frame), or when
// Sec-Fetch-Site says anything but same-origin. A POST with neither
// header is not a browser's, so no one's session can be forged with it,
// and it is let through, as the wallet's are (API.md: the same CSRF rules
// as the wallet). The session cookie is SameSite=Lax on top.

var errFormNotURLEncoded = &apperr.Error{Kind: apperr.Invalid, Code: "content_type_invalid",
	Message: "Send the form as application/x-www-form-urlencoded."}

// IdempotencyField is the hidden form field that carries a form's
// Idempotency-Key, made fresh each time the form is rendered.
const IdempotencyField = "idempotency_key"

// SameOriginForm refuses a form POST that does not show it came from
// this origin (see above).
func (e *Edge) SameOriginForm(c *gin.Context) error {
	origin, sfs := c.GetHeader("Origin"), c.GetHeader("Sec-Fetch-Site")
	switch {
	case origin == e.origin, origin == "" && sfs == "":
	case (origin == "" || origin == "null") && sfs == "same-origin":
	default:
		return errOriginNotAllowed
	}
	if sfs != "" && sfs != "same-origin" {
		return errOriginNotAllowed
	}
	return nil
}

// ReadForm checks SameOriginForm and reads a form POST: its
// IdempotencyField becomes the request's Idempotency-Key, and the other
// fields its idempotency fingerprint, so the same key sent with another
// form is refused (422) and a double submit acts once.
func (e *Edge) ReadForm(c *gin.Context) (url.Values, error) {
	if err := e.SameOriginForm(c); err != nil {
		return nil, err
	}
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errFormNotURLEncoded
	}
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errBodyTooLarge
		}
		return nil, errFormNotURLEncoded.Wrap(err)
	}
	form := c.Request.PostForm
	if k := form.Get(IdempotencyField); k != "" {
		c.Request.Header.Set("Idempotency-Key", k)
	}
	names := make([]string, 0, len(form))
	for name := range form {
		if name != IdempotencyField {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var canon strings.Builder
	for _, name := range names {
		for _, v := range form[name] {
			canon.WriteString(url.QueryEscape(name) + "=" + url.QueryEscape(v) + "&")
		}
	}
	c.Set(fingerprintKey, idempotency.Fingerprint(c.Request.Method, c.Request.URL.Path, []byte(canon.String())))
	return form, nil
}
