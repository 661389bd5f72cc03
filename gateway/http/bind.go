package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/bodylimit"
)

// bind decodes a JSON request body into v strictly (unknown fields are
// errors, so a typo never silently does nothing) and validates it. Errors
// name the field: 400 for malformed JSON, 415 for another media type, 413
// past the body limit, 422 for fields that are wrong.
func bind(c echo.Context, v any) error {
	r := c.Request()
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return gateway.Errorf(gateway.EUNSUPPORTED, "Content-Type must be application/json.")
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return gateway.Errorf(gateway.EINVALID, "The body must hold one JSON value.")
	}
	return c.Validate(v)
}

// jsonError explains a decoding failure in the caller's terms.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if _, over := bodylimit.Over(err); over {
		return bodylimit.Check(err)
	}
	switch {
	case errors.Is(err, io.EOF):
		return gateway.Errorf(gateway.EINVALID, "The request body is empty.")
	case errors.As(err, &syn):
		return gateway.Errorf(gateway.EINVALID, "Malformed JSON at byte %d: %v.", syn.Offset, syn)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return gateway.Errorf(gateway.EINVALID, "Malformed JSON: the body ends too early.")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return gateway.FieldError(field, fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return gateway.FieldError(field, "is not a known field")
	}
	return gateway.Errorf(gateway.EINVALID, "Malformed JSON: %v.", err)
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64, reflect.Uint, reflect.Uint64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// structValidator adapts validator/v10 to Echo and reports fields by their
// JSON names.
type structValidator struct{ v *validator.Validate }

func newValidator() *structValidator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return &structValidator{v: v}
}

// Validate returns an EUNPROCESSABLE error naming every invalid field.
func (sv *structValidator) Validate(i any) error {
	err := sv.v.Struct(i)
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return err
	}
	fields := map[string]string{}
	var first string
	for _, fe := range ves {
		name := fe.Namespace()
		if _, rest, ok := strings.Cut(name, "."); ok {
			name = rest // drop the struct's own name
		}
		fields[name] = describeRule(fe)
		if first == "" {
			first = name + ": " + fields[name]
		}
	}
	return &gateway.Error{Code: gateway.EUNPROCESSABLE, Message: first, Fields: fields}
}

func describeRule(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "max":
		return "must be at most " + fe.Param() + " characters"
	case "min":
		return "must be at least " + fe.Param()
	case "oneof":
		return "must be one of " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "email":
		return "must be an email address"
	case "url", "http_url":
		return "must be an http(s) URL"
	}
	return "is invalid (" + fe.Tag() + ")"
}
