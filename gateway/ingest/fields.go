package ingest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/heraldstatus/herald/gateway"
)

// FieldLimits bound the fields of one alert (the limits.* keys of the
// same names), whatever format it came in: a summary or label of
// megabytes would be stored, then rendered on every console page and in
// every message, long after the body limit let it in.
type FieldLimits struct {
	// Labels bounds how many labels, and how many annotations, an alert
	// carries; default 64.
	Labels int
	// NameBytes bounds a label's or an annotation's name; default 256.
	NameBytes int
	// ValueBytes bounds a label's value; default 16 KiB.
	ValueBytes int
	// SummaryBytes bounds the summary and each annotation's value (the
	// summary is taken from them); default 64 KiB.
	SummaryBytes int
}

// DefaultFieldLimits are the limits.* defaults.
var DefaultFieldLimits = FieldLimits{Labels: 64, NameBytes: 256, ValueBytes: 16 << 10, SummaryBytes: 64 << 10}

func (l FieldLimits) orDefault() FieldLimits {
	d := DefaultFieldLimits
	if l.Labels > 0 {
		d.Labels = l.Labels
	}
	if l.NameBytes > 0 {
		d.NameBytes = l.NameBytes
	}
	if l.ValueBytes > 0 {
		d.ValueBytes = l.ValueBytes
	}
	if l.SummaryBytes > 0 {
		d.SummaryBytes = l.SummaryBytes
	}
	return d
}

// maxFieldProblems bounds how many fields one refusal names.
const maxFieldProblems = 20

// check refuses alerts with a field over l: EUNPROCESSABLE naming each
// field at fault by the alert's index in the request, as
// "alerts[3].labels", "alerts[3].labels.team" or "alerts[3].summary".
func (l FieldLimits) check(alerts []gateway.Alert) error {
	fields := map[string]string{}
	var order []string
	add := func(field, problem string) bool {
		if len(order) == maxFieldProblems {
			return false
		}
		fields[field] = problem
		order = append(order, field)
		return true
	}
	for i, a := range alerts {
		if l.fits(&a) {
			continue // the usual case: nothing to name, nothing built
		}
		at := fmt.Sprintf("alerts[%d]", i)
		if len(a.Summary) > l.SummaryBytes && !add(at+".summary", fmt.Sprintf("is %d bytes; at most %d", len(a.Summary), l.SummaryBytes)) {
			break
		}
		if !l.checkMap(at+".labels", a.Labels, l.ValueBytes, add) || !l.checkMap(at+".annotations", a.Annotations, l.SummaryBytes, add) {
			break
		}
	}
	if len(order) == 0 {
		return nil
	}
	parts := make([]string, len(order))
	for i, f := range order {
		parts[i] = f + ": " + fields[f]
	}
	return &gateway.Error{Code: gateway.EUNPROCESSABLE, Fields: fields,
		Message: "Alert fields over Herald's limits (limits.*): " + strings.Join(parts, "; ")}
}

// fits reports whether a has no field over l.
func (l FieldLimits) fits(a *gateway.Alert) bool {
	return len(a.Summary) <= l.SummaryBytes && l.mapFits(a.Labels, l.ValueBytes) && l.mapFits(a.Annotations, l.SummaryBytes)
}

func (l FieldLimits) mapFits(m map[string]string, valueBytes int) bool {
	if len(m) > l.Labels {
		return false
	}
	for k, v := range m {
		if len(k) > l.NameBytes || len(v) > valueBytes {
			return false
		}
	}
	return true
}

// checkMap checks one label or annotation set; false once add refuses.
func (l FieldLimits) checkMap(at string, m map[string]string, valueBytes int, add func(field, problem string) bool) bool {
	if len(m) > l.Labels {
		return add(at, fmt.Sprintf("has %d entries; at most %d", len(m), l.Labels))
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names) // the same answer for the same body
	for _, k := range names {
		switch {
		case len(k) > l.NameBytes:
			if !add(at, fmt.Sprintf("a name is %d bytes; at most %d", len(k), l.NameBytes)) {
				return false
			}
		case len(m[k]) > valueBytes:
			if !add(at+"."+k, fmt.Sprintf("is %d bytes; at most %d", len(m[k]), valueBytes)) {
				return false
			}
		}
	}
	return true
}
