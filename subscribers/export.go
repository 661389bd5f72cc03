package subscribers

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// Export writes every subscriber to w as CSV (see ReadImport for the
// format; the first three columns are the import's, so an export imports
// back) as a stream: a page of subscribers at a time from the store, no
// full list in memory. Components and groups are written by name, or by
// id when a name holds a ";". Secrets are never exported, and with
// redact (for people who are not admins) webhook URLs are cut to
// scheme://host/… (see gateway.Subscriber.Redacted). It returns the number
// of subscribers written.
func (s *Service) Export(ctx context.Context, w io.Writer, redact bool) (int, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return 0, err
	}
	names := cat.names()
	cw := csv.NewWriter(w)
	if err := cw.Write(exportHeader); err != nil {
		return 0, fmt.Errorf("subscribers: export: %w", err)
	}
	n := 0
	rec := make([]string, len(exportHeader))
	err = s.st.ExportSubscribers(ctx, func(sub *gateway.Subscriber) error {
		if redact {
			r := sub.Redacted()
			sub = &r
		}
		email, url := sub.Address, ""
		if sub.Kind != gateway.SubscriberEmail { // a webhook's URL, another channel's target
			email, url = "", sub.Address
		}
		var targets []string
		if !sub.AllComponents {
			for _, id := range append(append([]string{}, sub.ComponentIDs...), sub.GroupIDs...) {
				targets = append(targets, names.of(id))
			}
		}
		rec[0], rec[1] = escapeCell(email), escapeCell(strings.Join(targets, ";"))
		rec[2] = strconv.FormatBool(sub.Status == gateway.SubscriberActive)
		rec[3], rec[4], rec[5] = string(sub.Kind), escapeCell(url), string(sub.Format)
		rec[6], rec[7] = string(sub.Status), escapeCell(sub.ConsentSource)
		rec[8] = sub.CreatedAt.UTC().Format(time.RFC3339)
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("subscribers: export: %w", err)
		}
		n++
		if n%exportFlushEvery == 0 {
			cw.Flush()
			return cw.Error()
		}
		return nil
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return n, err
}

// exportFlushEvery is how many rows an export buffers before writing them
// out, so a slow reader sees progress and memory stays flat.
const exportFlushEvery = 500

// nameIndex maps component and group ids to how an export names them.
type nameIndex map[string]string

func (c *catalog) names() nameIndex {
	ix := nameIndex{}
	for name, id := range c.components {
		if name != id && !strings.Contains(name, ";") {
			ix[id] = name
		}
	}
	for name, id := range c.groups {
		// A group named like a component would import back as the
		// component: write its id then.
		if _, clash := c.components[name]; name != id && !clash && !strings.Contains(name, ";") {
			ix[id] = name
		}
	}
	return ix
}

func (ix nameIndex) of(id string) string {
	if n, ok := ix[id]; ok {
		return n
	}
	return id
}
