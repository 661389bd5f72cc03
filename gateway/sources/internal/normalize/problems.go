package normalize

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
)

// maxProblems bounds how many problems one error lists, so that a body of
// thousands of bad alerts does not produce a megabyte of error message.
const maxProblems = 20

// Problems collects what is wrong with the fields of a body, in the order
// found, so that a caller fixes them all in one go. The zero value is
// ready to use.
type Problems struct {
	fields map[string]string
	order  []string
	more   int
}

// Add records that field (as the sender spells it, e.g.
// "alerts[2].status") has problem. Only the first problem of a field is
// kept, and only the first 20 fields; later ones are counted.
func (p *Problems) Add(field, problem string) {
	if _, dup := p.fields[field]; dup {
		return
	}
	if len(p.order) == maxProblems {
		p.more++
		return
	}
	if p.fields == nil {
		p.fields = make(map[string]string)
	}
	p.fields[field] = problem
	p.order = append(p.order, field)
}

// Err returns nil when nothing was added, else a *gateway.Error with code
// gateway.EUNPROCESSABLE, every field in Fields, and a message listing
// them as "field: problem; field: problem".
func (p *Problems) Err() error {
	if len(p.order) == 0 {
		return nil
	}
	parts := make([]string, 0, len(p.order)+1)
	for _, f := range p.order {
		parts = append(parts, f+": "+p.fields[f])
	}
	if p.more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", p.more))
	}
	return &gateway.Error{
		Code:    gateway.EUNPROCESSABLE,
		Message: strings.Join(parts, "; "),
		Fields:  p.fields,
	}
}

// Quote renders a value the sender gave for a message about it, cut to a
// readable length.
func Quote(s string) string {
	const limit = 64
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
