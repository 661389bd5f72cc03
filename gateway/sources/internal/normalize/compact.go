package normalize

import (
	"bytes"
	"encoding/json"
	"io"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
)

// Compact decoding. A webhook body of the largest size (limits.ingest_body,
// 10 MiB) holds some 60,000 small alerts, and decoding them the plain way
// (the body into a list of json.RawMessage, then each element again into a
// PrometheusAlert of plain maps and strings) cost about 1,200 bytes kept
// and 2,000 allocated per alert: a copy of each element's JSON, every label
// name and value allocated afresh though most repeat from one alert to the
// next, annotation maps that are the same for every alert of a group, and
// the field names of problems built for every alert in case one has one.
// That memory is what bounds how many bodies Herald decodes at once (see
// gateway/http's ingestBudget), and the collector lets the heap grow to
// several times it (GOGC=400).
//
// PrometheusAlerts decodes such a list compactly: one copy of the list's
// JSON, of which each alert's Raw is a part; label names and values, and
// generator URLs, interned within the body; one annotation map shared by
// the alerts whose annotations are the same JSON text; nothing built for a
// problem that does not occur. It takes only bodies it can decode exactly
// as the plain way does, and reports false for anything else (a value of
// the wrong JSON type, a null inside a map, a field with a problem, …):
// the caller then decodes the body the plain way, whose answer (the alerts,
// or the error naming every field at fault) is the reference. The fuzz
// tests of the formats that use it compare both ways on arbitrary bodies.

// internLimit bounds the distinct strings, and the distinct annotation
// maps, that one body interns: what repeats in a body (label names, a
// job's name, a rule's annotations) appears in its first alerts, while
// values that differ for every alert (an instance, a pod) would only fill
// the table.
const internLimit = 4096

// internMaxLen bounds the length of an interned string or the JSON text of
// an interned annotation map.
const internMaxLen = 1024

// interner holds what one body's alerts share, and whether anything in the
// body is irregular (see PrometheusAlerts).
type interner struct {
	strs      map[string]string
	maps      map[string]map[string]string
	pairs     []string // scratch: a map's names and values, in order
	irregular bool
}

func (in *interner) str(b []byte) string {
	if s, ok := in.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.strs) < internLimit && len(b) <= internMaxLen {
		in.strs[s] = s
	}
	return s
}

// stringValue decodes a JSON string token (quotes included): interned
// when it has no escape, else decoded by encoding/json, whose unescaping
// is the reference.
func (in *interner) stringValue(tok []byte) (string, bool) {
	if bytes.IndexByte(tok, '\\') < 0 {
		return in.str(tok[1 : len(tok)-1]), true
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", false
	}
	return in.str([]byte(s)), true
}

// internedString is a string field decoded through the body's interner.
type internedString struct {
	s  string
	in *interner
}

// UnmarshalJSON implements json.Unmarshaler. null leaves the string as it
// is, as encoding/json does; any other non-string is irregular.
func (f *internedString) UnmarshalJSON(data []byte) error {
	switch {
	case data[0] == 'n':
		return nil
	case data[0] != '"':
		f.in.irregular = true
		return nil
	}
	s, ok := f.in.stringValue(data)
	if !ok {
		f.in.irregular = true
	}
	f.s = s
	return nil
}

// internedMap is a map of strings (labels, annotations) decoded through
// the body's interner; shared maps are kept in the interner by their JSON
// text and reused for the same text.
type internedMap struct {
	m      map[string]string
	in     *interner
	shared bool
}

// UnmarshalJSON implements json.Unmarshaler for a JSON object of strings;
// null gives a nil map, as encoding/json does. Anything else (another
// JSON type, a value that is not a string, the field twice in one object)
// is irregular.
func (f *internedMap) UnmarshalJSON(data []byte) error {
	in := f.in
	switch {
	case data[0] == 'n':
		f.m = nil
		return nil
	case data[0] != '{' || f.m != nil:
		in.irregular = true
		return nil
	}
	if f.shared {
		if m, ok := in.maps[string(data)]; ok {
			f.m = m
			return nil
		}
	}
	pairs, ok := in.object(data)
	if !ok {
		in.irregular = true
		return nil
	}
	m := make(map[string]string, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	f.m = m
	if f.shared && len(in.maps) < internLimit && len(data) <= internMaxLen {
		in.maps[string(data)] = m
	}
	return nil
}

// object reads a JSON object whose values are all strings into in.pairs
// (name, value, name, value, …); false when a value is not a string. data
// is valid JSON (encoding/json checked it before calling UnmarshalJSON).
func (in *interner) object(data []byte) ([]string, bool) {
	pairs := in.pairs[:0]
	defer func() { in.pairs = pairs[:0] }()
	i := skipSpace(data, 1)
	if data[i] == '}' {
		return pairs, true
	}
	for {
		end := stringEnd(data, i)
		name, ok := in.stringValue(data[i:end])
		if !ok {
			return nil, false
		}
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // the colon
		if data[i] != '"' {
			return nil, false
		}
		end = stringEnd(data, i)
		value, ok := in.stringValue(data[i:end])
		if !ok {
			return nil, false
		}
		pairs = append(pairs, name, value)
		i = skipSpace(data, end)
		if data[i] == '}' {
			return pairs, true
		}
		i = skipSpace(data, i+1) // the comma
	}
}

// stringEnd returns the offset just past the JSON string starting at
// data[i] (a quote).
func stringEnd(data []byte, i int) int {
	for i++; ; i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// compactAlert is PrometheusAlert as PrometheusAlerts decodes it: the same
// JSON names, the maps and the generator URL through the interner.
type compactAlert struct {
	Status       string         `json:"status"`
	Labels       internedMap    `json:"labels"`
	Annotations  internedMap    `json:"annotations"`
	StartsAt     string         `json:"startsAt"`
	EndsAt       string         `json:"endsAt"`
	GeneratorURL internedString `json:"generatorURL"`
	Fingerprint  string         `json:"fingerprint"`
}

// ConvertFunc builds a format's alert from a decoded PrometheusAlert and
// its raw JSON, adding problems to p under field (the element's name, as
// "alerts[3]"; "" when the compact way calls it, which then only asks
// whether there was a problem).
type ConvertFunc func(p *Problems, field string, pa *PrometheusAlert, raw json.RawMessage) gateway.Alert

// PrometheusAlerts decodes list, the JSON text of a list of Prometheus
// alerts as it stands in a body that decoded without error, the compact
// way (see above), converting each alert with convert. It reports false
// when the list is not a JSON array, or anything in it is irregular or has
// a problem: the caller then decodes the body the plain way.
func PrometheusAlerts(list json.RawMessage, convert ConvertFunc) ([]gateway.Alert, bool) {
	n := ListLen(list)
	if n < 0 || !utf8.Valid(list) {
		return nil, false
	}
	in := &interner{strs: map[string]string{}, maps: map[string]map[string]string{}}
	dec := json.NewDecoder(bytes.NewReader(list))
	if _, err := dec.Token(); err != nil { // [
		return nil, false
	}
	alerts := make([]gateway.Alert, 0, n)
	var p Problems
	for dec.More() {
		start := dec.InputOffset()
		for list[start] == ',' || list[start] == ' ' || list[start] == '\t' || list[start] == '\n' || list[start] == '\r' {
			start++
		}
		if list[start] != '{' {
			return nil, false
		}
		ca := compactAlert{Labels: internedMap{in: in}, Annotations: internedMap{in: in, shared: true},
			GeneratorURL: internedString{in: in}}
		if err := dec.Decode(&ca); err != nil || in.irregular {
			return nil, false
		}
		end := dec.InputOffset()
		pa := PrometheusAlert{Status: ca.Status, Labels: ca.Labels.m, Annotations: ca.Annotations.m,
			StartsAt: ca.StartsAt, EndsAt: ca.EndsAt, GeneratorURL: ca.GeneratorURL.s, Fingerprint: ca.Fingerprint}
		alerts = append(alerts, convert(&p, "", &pa, json.RawMessage(list[start:end:end])))
		if p.Err() != nil {
			return nil, false
		}
	}
	if _, err := dec.Token(); err != nil { // ]
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return alerts, true
}

// ListLen counts the elements of list, the JSON text of an array as it
// stands in a body that decoded without error; -1 when list is not an
// array.
func ListLen(list json.RawMessage) int {
	i := skipSpace(list, 0)
	if i == len(list) || list[i] != '[' {
		return -1
	}
	n, depth, empty := 0, 0, true
	for ; i < len(list); i++ {
		switch c := list[i]; c {
		case '"':
			i = stringEnd(list, i) - 1
			empty = false
		case '[', '{':
			if depth == 1 {
				empty = false
			}
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 1 {
				n++
			}
		case ' ', '\t', '\n', '\r':
		default:
			if depth == 1 {
				empty = false
			}
		}
		if depth == 0 {
			break
		}
	}
	if empty {
		return 0
	}
	return n + 1
}
