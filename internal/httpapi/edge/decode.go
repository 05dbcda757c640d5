package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/idempotency"
)

// maxBody is the largest request body accepted (API.md: 64 KiB).
const maxBody = 64 << 10

var (
	errInvalidJSON = &apperr.Error{Kind: apperr.Invalid, Code: "invalid_json",
		Message: "The request body is not a valid JSON object."}
	// ErrUnknownParameter is the 400 of a body field the route does not
	// take.
	ErrUnknownParameter = &apperr.Error{Kind: apperr.Invalid, Code: "unknown_parameter",
		Message: "The request has a parameter this endpoint does not accept."}
	errBodyTooLarge = &apperr.Error{Kind: apperr.TooLarge, Code: "body_too_large",
		Message: "The request body is larger than 64 KiB."}
	errParameterInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "parameter_invalid",
		Message: "A parameter has the wrong type."}
)

// codeByField names the error code for a wrongly typed field whose code
// API.md fixes; other fields get parameter_invalid.
var codeByField = map[string]*apperr.Error{
	"amount":     {Kind: apperr.Invalid, Code: "amount_invalid", Message: "The amount must be a whole number of minor units from 1 to 99999999."},
	"expires_in": {Kind: apperr.Invalid, Code: "expiry_invalid", Message: "expires_in must be a whole number of seconds."},
	"expires_at": {Kind: apperr.Invalid, Code: "expiry_invalid", Message: "expires_at must be an RFC 3339 time."},
	"metadata":   {Kind: apperr.Invalid, Code: "metadata_invalid", Message: "metadata must be an object of string keys and string values."},
	"currency":   {Kind: apperr.Invalid, Code: "currency_unsupported", Message: "currency must be an ISO 4217 code."},
	"realm":      {Kind: apperr.Invalid, Code: "realm_invalid", Message: "realm must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-'."},
}

// fingerprintKey is where Decode leaves the request's idempotency
// fingerprint.
const fingerprintKey = "paylink.fingerprint"

// Decode reads the JSON object in the request body into dst (a pointer to
// a struct), rejecting malformed JSON, unknown fields and wrong types with
// API.md's codes. An empty body reads as {}.
func Decode(c *gin.Context, dst any) error {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errBodyTooLarge
		}
		return errInvalidJSON.Wrap(err)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil || dec.More() {
		return errInvalidJSON
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return errInvalidJSON
	}
	if param := unknownField(obj, reflect.TypeOf(dst).Elem(), ""); param != "" {
		return ErrUnknownParameter.WithParam(param).WithMessage("Unknown parameter: " + param + ".")
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			last := field[strings.LastIndexByte(field, '.')+1:]
			if e, ok := codeByField[last]; ok {
				return e.WithParam(field)
			}
			return errParameterInvalid.WithParam(field).WithMessage("Parameter " + field + " has the wrong type.")
		}
		return errInvalidJSON.Wrap(err)
	}
	canonical, _ := json.Marshal(generic) // maps marshal with sorted keys
	c.Set(fingerprintKey, idempotency.Fingerprint(c.Request.Method, c.Request.URL.Path, canonical))
	return nil
}

// unknownField returns the dotted path of the first key in obj that t (a
// struct type) does not declare, looking into nested structs.
func unknownField(obj map[string]any, t reflect.Type, prefix string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		ft, ok := fields[k]
		if !ok {
			return prefix + k
		}
		if sub, ok := v.(map[string]any); ok {
			if p := unknownField(sub, ft, prefix+k+"."); p != "" {
				return p
			}
		}
	}
	return ""
}

// BindPayer makes payer part of the request's idempotency fingerprint and
// returns base narrowed to payer, the request's Idempotency-Key scope: a
// public checkout's key belongs to the shopper who sent it (a wallet user,
// or a card's holder), never to everyone paying the same link.
func BindPayer(c *gin.Context, base, payer string) string {
	c.Set(fingerprintKey, idempotency.BindFingerprint(Fingerprint(c), payer))
	return base + "/" + payer
}

// Fingerprint is the request's idempotency fingerprint: its method, path
// and the body Decode read, normalised (none when nothing was decoded).
func Fingerprint(c *gin.Context) []byte {
	if v, ok := c.Get(fingerprintKey); ok {
		return v.([]byte)
	}
	return idempotency.Fingerprint(c.Request.Method, c.Request.URL.Path, nil)
}
