// Package normalize turns a monitoring tool's request body into normalized
// gateway.Alerts; it holds what the ingest formats under gateway/sources
// share: JSON decoding whose errors say where the body went wrong, the
// collection of field problems into one *gateway.Error, RFC 3339 time
// parsing, the severity and summary rules, and the final normalization
// every decoded alert goes through. (It is not gateway/ingest, the service
// that authenticates, correlates and commits what these decoders return.)
package normalize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
)

// Body decodes a whole request body into v, a pointer to the format's
// top-level payload (a struct or map for a JSON object, a slice for a JSON
// array). Unknown fields are ignored.
//
// It returns a gateway.EINVALID error when the body is empty, not UTF-8,
// not JSON (the message gives the byte offset, line and column), not the
// JSON type v wants, or holds a \u0000 escape (no NUL character can be
// stored in PostgreSQL); and a gateway.EUNPROCESSABLE error naming the
// field when a field has the wrong JSON type.
func Body(body []byte, v any) error {
	want := jsonKind(reflect.TypeOf(v).Elem())
	trimmed := bytes.TrimSpace(body)
	nul := nulEscapeAt(body)
	switch {
	case len(trimmed) == 0:
		return gateway.Errorf(gateway.EINVALID, "request body is empty; want %s", want)
	case !utf8.Valid(body):
		return gateway.Errorf(gateway.EINVALID, "request body is not valid UTF-8 (at byte offset %d)", invalidUTF8At(body))
	case bytes.Equal(trimmed, []byte("null")):
		return gateway.Errorf(gateway.EINVALID, "request body must be %s, not null", want)
	case nul >= 0:
		// PostgreSQL stores no NUL character, in text or jsonb.
		return gateway.Errorf(gateway.EINVALID, "request body contains the NUL character \\u0000 (at byte offset %d), which Herald does not accept", nul)
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		// encoding/json counts the offending byte as read; point at it,
		// or at the end of the body when that is what is wrong.
		at := syntax.Offset - 1
		if syntax.Error() == "unexpected end of JSON input" || at < 0 {
			at = syntax.Offset
		}
		line, col := position(body, at)
		return &gateway.Error{
			Code:    gateway.EINVALID,
			Message: fmt.Sprintf("malformed JSON at byte offset %d (line %d, column %d): %s", at, line, col, syntax.Error()),
			Err:     err,
		}
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field == "" {
		return &gateway.Error{
			Code:    gateway.EINVALID,
			Message: fmt.Sprintf("request body must be %s, not %s", want, article(typ.Value)),
			Err:     err,
		}
	}
	var p Problems
	p.addDecodeError("", err)
	return p.Err()
}

// Element decodes raw, one element of the body such as an alert of a list,
// into v, a pointer to a struct. field names the element in problems
// ("alerts[3]", or "" for the whole body). It reports false, after adding
// the problem to p, when raw is not a JSON object or one of its fields has
// the wrong JSON type.
func Element(p *Problems, field string, raw json.RawMessage, v any) bool {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		p.Add(field, "must be an object, not null")
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		p.addDecodeError(field, err)
		return false
	}
	return true
}

// addDecodeError records a json.Unmarshal error of the element named field.
func (p *Problems) addDecodeError(field string, err error) {
	var typ *json.UnmarshalTypeError
	if !errors.As(err, &typ) {
		p.Add(field, err.Error())
		return
	}
	name := Join(field, typ.Field)
	if typ.Field == "" {
		p.Add(name, fmt.Sprintf("must be an object, not %s", article(typ.Value)))
		return
	}
	p.Add(name, fmt.Sprintf("expected %s, got %s", jsonKind(typ.Type), article(typ.Value)))
}

// Join names a field inside an element: Join("alerts[2]", "labels") is
// "alerts[2].labels", Join("", "status") is "status", and an index
// ("[0]") joins without a dot.
func Join(element, field string) string {
	switch {
	case element == "":
		return field
	case field == "":
		return element
	case field[0] == '[':
		return element + field
	}
	return element + "." + field
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "a JSON array"
	case reflect.Map, reflect.Struct:
		return "a JSON object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.String()
}

// article prefixes the JSON type names encoding/json reports ("array",
// "number", "string", …) for a readable message.
func article(value string) string {
	switch value {
	case "array", "object":
		return "an " + value
	case "null":
		return value
	}
	if len(value) > 0 && value[0] >= 'a' && value[0] <= 'z' {
		return "a " + value
	}
	return value // "number 1e400" and the like
}

// position converts a 0-based byte offset into a 1-based line and column.
func position(body []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(body)))
	before := body[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// nulEscapeAt returns the offset of the first \u0000 escape in a JSON
// text, or -1. An escape is a backslash not itself escaped: preceded by
// an even number of backslashes.
func nulEscapeAt(b []byte) int {
	esc := []byte(`\u0000`)
	for from := 0; ; {
		i := bytes.Index(b[from:], esc)
		if i < 0 {
			return -1
		}
		at := from + i
		backslashes := 0
		for j := at - 1; j >= 0 && b[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return at
		}
		from = at + len(esc)
	}
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}
