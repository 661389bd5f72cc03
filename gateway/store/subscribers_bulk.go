package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// importChunk is the rows of one multi-row import statement: the size
// whose statements bulkOn keeps prepared on SQLite, where parsing a
// statement of hundreds of rows anew each time costs as much as running it.
const importChunk = maxCachedBulk

// ImportRow is one valid, resolved row of a subscriber import: an email
// subscriber ready to insert (ID, Address normalized, Status pending or
// active, TokenNonce, AllComponents or ComponentIDs/GroupIDs,
// ConsentSource, ConfirmedAt for an active one) and, for a pending one,
// the confirmation event to write with it.
type ImportRow struct {
	Subscriber gateway.Subscriber
	Confirm    *gateway.Event
}

// ImportOutcome says what became of one ImportRow.
type ImportOutcome int

// Import outcomes.
const (
	ImportAdded      ImportOutcome = iota
	ImportExisting                 // the address is a subscriber already (or twice in the batch): left as it is
	ImportSuppressed               // the address is on the suppression list: not imported
)

// ImportSubscribers writes a batch of imported subscribers in one
// transaction with multi-row statements (of importChunk rows):
// the new subscribers, their subscriptions, the confirmation events of the
// pending ones, and one audit entry with the counts (never an address). A
// known address is left untouched, so an import run twice adds nothing; a
// suppressed one is skipped. It returns one outcome per row.
func (s *Store) ImportSubscribers(ctx context.Context, who gateway.Principal, rows []ImportRow) ([]ImportOutcome, error) {
	out := make([]ImportOutcome, len(rows))
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		suppressed, err := s.suppressedAmong(ctx, tx, rows)
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(rows))
		var fresh []int // indexes of the rows to insert
		for i, r := range rows {
			switch addr := r.Subscriber.Address; {
			case suppressed[gateway.AddressHash(addr)]:
				out[i] = ImportSuppressed
			case seen[addr]:
				out[i] = ImportExisting
			default:
				seen[addr] = true
				fresh = append(fresh, i)
			}
		}
		inserted, err := s.insertImported(ctx, tx, rows, fresh)
		if err != nil {
			return err
		}
		var added []ImportRow
		for _, i := range fresh {
			if inserted[rows[i].Subscriber.ID] {
				out[i] = ImportAdded
				added = append(added, rows[i])
			} else {
				out[i] = ImportExisting
			}
		}
		if err := s.importLinks(ctx, tx, added); err != nil {
			return err
		}
		if err := s.importEvents(ctx, tx, added); err != nil {
			return err
		}
		return s.audit(ctx, tx, who, "subscriber.import", "subscriber", "", map[string]any{
			"rows": len(rows), "added": len(added), "suppressed": count(out, ImportSuppressed)})
	})
	return out, err
}

func count(out []ImportOutcome, o ImportOutcome) int {
	n := 0
	for _, x := range out {
		if x == o {
			n++
		}
	}
	return n
}

// suppressedAmong returns the address hashes of rows that are suppressed.
func (s *Store) suppressedAmong(ctx context.Context, tx *sqlx.Tx, rows []ImportRow) (map[string]bool, error) {
	hashes := make([]any, len(rows))
	for i, r := range rows {
		hashes[i] = gateway.AddressHash(r.Subscriber.Address)
	}
	out := map[string]bool{}
	for chunk := range slices.Chunk(hashes, importChunk) {
		var found []string
		if err := s.bulkOn(ctx, tx, s.q.SuppressedAmong, len(chunk)).selectInto(ctx, &found, chunk...); err != nil {
			return nil, wrap("suppressed among", err)
		}
		for _, h := range found {
			out[h] = true
		}
	}
	return out, nil
}

// insertImported inserts rows[fresh] and returns the ids it inserted
// (those of known addresses insert nothing).
func (s *Store) insertImported(ctx context.Context, tx *sqlx.Tx, rows []ImportRow, fresh []int) (map[string]bool, error) {
	now := s.now()
	inserted := make(map[string]bool, len(fresh))
	for chunk := range slices.Chunk(fresh, importChunk) {
		args := make([]any, 0, 11*len(chunk))
		for _, i := range chunk {
			sub := &rows[i].Subscriber
			sub.CreatedAt, sub.UpdatedAt = now, now
			var sentAt any
			sent := 0
			if rows[i].Confirm != nil {
				sentAt, sent = now, 1
			}
			args = append(args, sub.ID, sub.Address, sub.Status, sub.AllComponents, sub.TokenNonce, sub.ConsentSource,
				nullable(sub.ConfirmedAt), sentAt, sent, now, now)
		}
		var ids []string
		if err := s.bulkOn(ctx, tx, s.q.ImportSubscribers, len(chunk)).selectInto(ctx, &ids, args...); err != nil {
			return nil, wrap("import subscribers", err)
		}
		for _, id := range ids {
			inserted[id] = true
		}
	}
	return inserted, nil
}

// importLinks writes the subscriptions of the added rows.
func (s *Store) importLinks(ctx context.Context, tx *sqlx.Tx, added []ImportRow) error {
	now := s.now()
	var comps, groups []any
	for _, r := range added {
		if r.Subscriber.AllComponents {
			continue
		}
		for _, c := range r.Subscriber.ComponentIDs {
			comps = append(comps, r.Subscriber.ID, c, now)
		}
		for _, g := range r.Subscriber.GroupIDs {
			groups = append(groups, r.Subscriber.ID, g, now)
		}
	}
	for _, x := range []struct {
		q    string
		args []any
	}{{s.q.InsertSubscriptions, comps}, {s.q.InsertGroupSubs, groups}} {
		for chunk := range slices.Chunk(x.args, 3*importChunk) {
			if _, err := s.bulkOn(ctx, tx, x.q, len(chunk)/3).exec(ctx, chunk...); err != nil {
				return orUnknown(wrap("import subscriptions", err), "components")
			}
		}
	}
	return nil
}

// importEvents writes the confirmation events of the added pending rows;
// the outbox loop plans them.
func (s *Store) importEvents(ctx context.Context, tx *sqlx.Tx, added []ImportRow) error {
	now := s.now()
	var args []any
	for _, r := range added {
		e := r.Confirm
		if e == nil {
			continue
		}
		if e.ID == "" {
			e.ID = gateway.NewID()
		}
		e.CreatedAt, e.SubscriberID = now, r.Subscriber.ID
		payload, err := json.Marshal(e.Payload)
		if err != nil {
			return fmt.Errorf("store: event payload: %w", err)
		}
		args = append(args, e.ID, e.SubscriberID, string(payload), e.Actor, now)
	}
	for chunk := range slices.Chunk(args, 5*importChunk) {
		if _, err := s.bulkOn(ctx, tx, s.q.ImportEvents, len(chunk)/5).exec(ctx, chunk...); err != nil {
			return wrap("import confirmation events", err)
		}
	}
	return nil
}

// exportPage is how many subscribers ExportSubscribers reads at a time.
const exportPage = 1000

// ExportSubscribers calls fn for every subscriber in id order, with its
// subscriptions and without its secret. It reads a page at a time (no
// long transaction, memory bounded by the page), so a subscriber that
// changes during the export appears once, as it was when its page was
// read. An error from fn stops the export and is returned.
func (s *Store) ExportSubscribers(ctx context.Context, fn func(*gateway.Subscriber) error) error {
	after := ""
	for {
		var rows []subscriberRow
		if err := s.db.SelectContext(ctx, &rows, s.q.ExportSubscribers, after, exportPage); err != nil {
			return wrap("export subscribers", err)
		}
		page := make([]gateway.Subscriber, len(rows))
		for i, r := range rows {
			page[i] = *r.subscriber()
			page[i].Secret = ""
		}
		if err := s.attachSubscriptions(ctx, s.db, page); err != nil {
			return err
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(rows) < exportPage {
			return nil
		}
		after = rows[len(rows)-1].ID
	}
}

// StreamSubscribers calls fn with the subscribers who receive news of the
// given components, in batches of at most batch (default 1000), in id
// order: active, not suppressed (email), and subscribed to the whole page,
// to one of the components, or to the group of one. Each batch is one
// keyset query (see stream-subscribers), so memory stays bounded by the
// batch and a batch late in a million rows costs what the first does.
// Subscribers come without their subscriptions and with their secrets
// opened. An error from fn stops the stream and is returned.
func (s *Store) StreamSubscribers(ctx context.Context, componentIDs []string, batch int, fn func([]gateway.Subscriber) error) error {
	if batch <= 0 {
		batch = 1000
	}
	comps := anySlice(componentIDs)
	if len(comps) == 0 {
		comps = []any{""} // no component: the whole-page subscribers only
	}
	// Each branch has its own IN list, so that each can read its index by
	// component (a list the planner cannot see into, such as a CTE of
	// VALUES, makes PostgreSQL scan the subscriptions of everyone).
	list := strings.TrimSuffix(strings.Repeat("?, ", len(comps)), ", ")
	q := s.db.Rebind(strings.ReplaceAll(unbind(s.q.StreamSubscribers), "IN (?)", "IN ("+list+")"))
	after := ""
	for {
		var rows []struct {
			subscriberRow
			Eligible int
		}
		args := []any{after, batch}
		args = append(append(args, comps...), after, batch)
		args = append(append(args, comps...), after, batch, batch)
		if err := s.db.SelectContext(ctx, &rows, q, args...); err != nil {
			return wrap("stream subscribers", err)
		}
		out := make([]gateway.Subscriber, 0, len(rows))
		for _, r := range rows {
			if r.Eligible == 1 {
				sub := r.subscriber()
				sub.Secret = s.openSecret(sub.ID, sub.Secret)
				out = append(out, *sub)
			}
		}
		if len(out) > 0 {
			if err := fn(out); err != nil {
				return err
			}
		}
		if len(rows) < batch {
			return nil
		}
		after = rows[len(rows)-1].ID
	}
}
