// Package jsonbody reads a request's JSON body strictly, as API.md asks:
// malformed JSON or a body that is not an object is 400 invalid_json, a
// field the route does not take 400 unknown_parameter, a key given twice
// in one object 400 duplicate_parameter, a wrongly typed field 400 with
// the field's code. Package edge reads the body and keeps the idempotency
// fingerprint; this package knows nothing of HTTP.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"

	"github.com/paylink/paylink/internal/apperr"
)

var (
	// ErrInvalidJSON is the 400 of a body that is not one JSON object.
	ErrInvalidJSON = &apperr.Error{Kind: apperr.Invalid, Code: "invalid_json",
		Message: "The request body is not a valid JSON object."}
	// ErrUnknownParameter is the 400 of a body field the route does not
	// take.
	ErrUnknownParameter = &apperr.Error{Kind: apperr.Invalid, Code: "unknown_parameter",
		Message: "The request has a parameter this endpoint does not accept."}
	errDuplicateParameter = &apperr.Error{Kind: apperr.Invalid, Code: "duplicate_parameter",
		Message: "A parameter is given more than once."}
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

// Decode reads raw, a request body holding one JSON object (blank reads
// as {}), into dst (a pointer to a struct), rejecting malformed JSON,
// repeated keys, unknown fields and wrong types with API.md's codes. It
// returns the object re-encoded with sorted keys, for the idempotency
// fingerprint.
func Decode(raw []byte, dst any) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil || dec.More() {
		return nil, ErrInvalidJSON
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return nil, ErrInvalidJSON
	}
	if param := duplicateKey(raw); param != "" {
		return nil, errDuplicateParameter.WithParam(param).WithMessage("Parameter " + param + " is given more than once; send it once.")
	}
	if param := unknownField(obj, reflect.TypeOf(dst).Elem(), ""); param != "" {
		return nil, ErrUnknownParameter.WithParam(param).WithMessage("Unknown parameter: " + param + ".")
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			last := field[strings.LastIndexByte(field, '.')+1:]
			if e, ok := codeByField[last]; ok {
				return nil, e.WithParam(field)
			}
			return nil, errParameterInvalid.WithParam(field).WithMessage("Parameter " + field + " has the wrong type.")
		}
		return nil, ErrInvalidJSON.Wrap(err)
	}
	canonical, _ := json.Marshal(generic) // maps marshal with sorted keys
	return canonical, nil
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
