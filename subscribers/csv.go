package subscribers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The CSV format of import and export. The header names the columns, in
// any order; email is required, components and confirmed are optional:
//
//	email,components,confirmed
//	ops@example.com,Space Module;Move Module,true
//
// components lists component or group names (or ids) separated by ";";
// empty is the whole page. confirmed is true/false (yes/no, 1/0; empty is
// false). The other columns an export writes (kind, url, format, status,
// consent_source, created_at) are read back as far as they matter: rows of
// webhooks, or of unsubscribed or disabled subscribers, are not imported.
// Any other column is an error, so that a misspelt header never silently
// drops data.

// exportHeader is the header an export writes; its first three columns
// are the import's.
var exportHeader = []string{"email", "components", "confirmed", "kind", "url", "format", "status", "consent_source", "created_at"}

// knownColumns are the columns an import accepts.
var knownColumns = map[string]bool{"email": true, "components": true, "confirmed": true, "kind": true, "url": true,
	"format": true, "status": true, "consent_source": true, "created_at": true, "id": true}

// ImportRecord is one data row of an import file, checked: Email is
// normalized, Components are the names or ids as written.
type ImportRecord struct {
	Line       int
	Email      string
	Components []string
	Confirmed  bool
	// ConsentSource is the row's consent_source cell: where this person
	// agreed to be mailed. It wins over the import's own consent source.
	ConsentSource string
}

// RowError reports an import row that was not imported.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// ErrHeader is wrapped when an import's header line is missing or wrong:
// nothing can be read then.
var ErrHeader = errors.New("subscribers: import header")

// ReadImport reads an import CSV from r as a stream: it calls fn with each
// valid row and bad with each invalid one (by line number), and goes on to
// the end. It returns an error wrapping ErrHeader for a bad header, the
// reader's error, or fn's error, which stops it.
func ReadImport(r io.Reader, fn func(ImportRecord) error, bad func(RowError)) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: the file is empty; the first line must name the columns, e.g. email,components,confirmed", ErrHeader)
	} else if err != nil {
		return fmt.Errorf("%w: line 1: %w", ErrHeader, err)
	}
	cols, err := columns(header)
	if err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			bad(RowError{Line: pe.StartLine, Message: pe.Err.Error()})
			continue
		} else if err != nil {
			return fmt.Errorf("subscribers: read import: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		row, rerr := cols.record(rec, line)
		if rerr != nil {
			bad(*rerr)
			continue
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// columnIndex says where each known column is (-1: absent) and how many
// the header has.
type columnIndex struct {
	at map[string]int
	n  int
}

func columns(header []string) (columnIndex, error) {
	cols := columnIndex{at: map[string]int{}, n: len(header)}
	for name := range knownColumns {
		cols.at[name] = -1
	}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !knownColumns[name] {
			return columnIndex{}, fmt.Errorf("%w: line 1: unknown column %q (want email, components, confirmed)", ErrHeader, h)
		}
		if cols.at[name] >= 0 {
			return columnIndex{}, fmt.Errorf("%w: line 1: column %q appears twice", ErrHeader, name)
		}
		cols.at[name] = i
	}
	if cols.at["email"] < 0 {
		return columnIndex{}, fmt.Errorf("%w: line 1: no email column (want email, components, confirmed)", ErrHeader)
	}
	return cols, nil
}

// get returns a column's cell, "" when the column or the cell is absent.
func (c columnIndex) get(rec []string, name string) string {
	if i := c.at[name]; i >= 0 && i < len(rec) {
		return unescapeCell(strings.TrimSpace(rec[i]))
	}
	return ""
}

// record checks one data row.
func (c columnIndex) record(rec []string, line int) (ImportRecord, *RowError) {
	fail := func(field, msg string) (ImportRecord, *RowError) {
		return ImportRecord{}, &RowError{Line: line, Field: field, Message: msg}
	}
	if len(rec) > c.n {
		return fail("", fmt.Sprintf("has %d fields, more than the header's", len(rec)))
	}
	if k := c.get(rec, "kind"); k != "" && k != "email" {
		return fail("kind", "only email subscribers are imported from CSV")
	}
	switch st := c.get(rec, "status"); st {
	case "", "pending", "active":
	case "unsubscribed", "disabled":
		return fail("status", "is "+st+"; not imported")
	default:
		return fail("status", "must be pending, active, unsubscribed or disabled")
	}
	email, err := NormalizeEmail(c.get(rec, "email"))
	if err != nil {
		return fail("email", fieldProblem(err, "email"))
	}
	confirmed, ok := parseBool(c.get(rec, "confirmed"))
	if !ok {
		return fail("confirmed", "must be true or false")
	}
	var comps []string
	for part := range strings.SplitSeq(c.get(rec, "components"), ";") {
		if p := strings.TrimSpace(part); p != "" {
			comps = append(comps, p)
		}
	}
	consent := c.get(rec, "consent_source")
	if err := checkConsent(false, consent); err != nil {
		return fail("consent_source", fieldProblem(err, "consent_source"))
	}
	return ImportRecord{Line: line, Email: email, Components: comps, Confirmed: confirmed, ConsentSource: consent}, nil
}

func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "", "false", "no", "0", "n", "f":
		return false, true
	case "true", "yes", "1", "y", "t":
		return true, true
	}
	return false, false
}

// Spreadsheets run a cell that starts with = + - @ (or a tab or CR before
// one) as a formula: an export opened in one must not. Such cells are
// written with a leading ' (the spreadsheet convention for "text"), which
// an import takes off again.
func escapeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func unescapeCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}
