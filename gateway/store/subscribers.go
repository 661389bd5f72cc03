package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// subscriberQueries are the statements of queries/subscribers.sql:
// subscribers, subscriptions, suppressions, import, export, the fan-out's
// stream, and the settings get-or-create the subscriber key needs.
type subscriberQueries struct {
	InsertSubscriber        string `query:"insert-subscriber"`
	GetSubscriber           string `query:"get-subscriber"`
	SubscriberByAddress     string `query:"subscriber-by-address"`
	LockSubscriber          string `query:"lock-subscriber"`
	LockSubscriberByAddress string `query:"lock-subscriber-by-address"`
	SaveSubscriber          string `query:"save-subscriber"`
	DeleteSubscriber        string `query:"delete-subscriber"`
	ConfirmationState       string `query:"confirmation-state"`
	ClaimConfirmation       string `query:"claim-confirmation"`
	ListSubscribers         string `query:"list-subscribers"`
	SubscriberComponents    string `query:"subscriber-subscriptions"`
	SubscriberGroups        string `query:"subscriber-group-subscriptions"`
	GroupSubscriptionsOf    string `query:"group-subscriptions-of"`
	ComponentSubsOf         string `query:"component-subscriptions-of"`
	SetAllComponents        string `query:"set-all-components"`
	DeleteSubscriptions     string `query:"delete-subscriptions"`
	DeleteGroupSubs         string `query:"delete-group-subscriptions"`
	InsertSubscriptions     string `query:"insert-subscriptions"`
	InsertGroupSubs         string `query:"insert-group-subscriptions"`
	Suppression             string `query:"suppression"`
	SuppressAddress         string `query:"suppress-address"`
	UnsuppressAddress       string `query:"unsuppress-address"`
	DeleteSuppression       string `query:"delete-suppression"`
	SuppressedAmong         string `query:"suppressed-among"`
	ImportSubscribers       string `query:"import-subscribers"`
	ImportEvents            string `query:"import-events"`
	ExportSubscribers       string `query:"export-subscribers"`
	StreamSubscribers       string `query:"stream-subscribers"`
	InsertSettingOnce       string `query:"insert-setting-once"`
}

// subscriberRow scans a subscriber: the nullable times into zero values.
type subscriberRow struct {
	gateway.Subscriber
	ConfirmedAt    optTime
	UnsubscribedAt optTime
}

func (r subscriberRow) subscriber() *gateway.Subscriber {
	sub := r.Subscriber
	sub.ConfirmedAt, sub.UnsubscribedAt = r.ConfirmedAt.Time, r.UnsubscribedAt.Time
	return &sub
}

// Subscriber returns a subscriber with its component and group ids and its
// webhook secret opened (see SecretBox); ENOTFOUND when none has the id.
func (s *Store) Subscriber(ctx context.Context, id string) (*gateway.Subscriber, error) {
	var r subscriberRow
	if err := s.db.GetContext(ctx, &r, s.q.GetSubscriber, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("Subscriber", id)
		}
		return nil, wrap("get subscriber", err)
	}
	sub := r.subscriber()
	if err := s.loadSubscriptions(ctx, s.db, sub); err != nil {
		return nil, err
	}
	sub.Secret = s.openSecret(sub.ID, sub.Secret)
	return sub, nil
}

// SubscriberByAddress is Subscriber by kind and normalized address (see
// gateway.NormalizeAddress); ENOTFOUND when there is none.
func (s *Store) SubscriberByAddress(ctx context.Context, kind gateway.SubscriberKind, address string) (*gateway.Subscriber, error) {
	var r subscriberRow
	if err := s.db.GetContext(ctx, &r, s.q.SubscriberByAddress, kind, address); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, gateway.Errorf(gateway.ENOTFOUND, "No %s subscriber has this address.", kind)
		}
		return nil, wrap("subscriber by address", err)
	}
	sub := r.subscriber()
	if err := s.loadSubscriptions(ctx, s.db, sub); err != nil {
		return nil, err
	}
	sub.Secret = s.openSecret(sub.ID, sub.Secret)
	return sub, nil
}

func (s *Store) loadSubscriptions(ctx context.Context, q sqlx.QueryerContext, sub *gateway.Subscriber) error {
	sub.ComponentIDs, sub.GroupIDs = []string{}, []string{}
	if err := sqlx.SelectContext(ctx, q, &sub.ComponentIDs, s.q.SubscriberComponents, sub.ID); err != nil {
		return wrap("subscriber subscriptions", err)
	}
	err := sqlx.SelectContext(ctx, q, &sub.GroupIDs, s.q.SubscriberGroups, sub.ID)
	return wrap("subscriber group subscriptions", err)
}

// SubscriberFilter selects subscribers for the admin list. Query matches a
// substring of the address, case-insensitively; Status and Kind match
// exactly; empty fields match everything. The cursor is the (CreatedAt,
// ID) of the last subscriber of the previous page, zero for the first.
type SubscriberFilter struct {
	Query string
	// QueryEmailsOnly matches Query against email addresses only, for
	// people who may not read webhook URLs (see
	// gateway.Subscriber.Redacted): a substring search would otherwise
	// spell a URL out for them one guess at a time.
	QueryEmailsOnly bool
	Status          gateway.SubscriberStatus
	Kind            gateway.SubscriberKind
	// Component, an id, keeps the subscribers who hear about it.
	Component string
	Before    time.Time
	// BeforeID breaks ties between subscribers created in one microsecond.
	BeforeID string
	Limit    int
}

// endOfTime stands for "no cursor": every subscriber was created before it.
var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Subscribers lists subscribers newest first, with their subscriptions and
// without their secrets: two extra queries per page, whatever its size.
func (s *Store) Subscribers(ctx context.Context, f SubscriberFilter) ([]gateway.Subscriber, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	like := ""
	if f.Query != "" {
		like = "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.Query)) + "%"
	}
	before, beforeID := endOfTime, ""
	if !f.Before.IsZero() {
		before, beforeID = storedTime(f.Before), f.BeforeID
	}
	var rows []subscriberRow
	if err := s.db.SelectContext(ctx, &rows, s.q.ListSubscribers, like, like, !f.QueryEmailsOnly, f.Status, f.Status, f.Kind, f.Kind,
		f.Component, f.Component, f.Component, before, before, beforeID, f.Limit); err != nil {
		return nil, wrap("list subscribers", err)
	}
	out := make([]gateway.Subscriber, len(rows))
	for i, r := range rows {
		out[i] = *r.subscriber()
		out[i].Secret = ""
	}
	return out, s.attachSubscriptions(ctx, s.db, out)
}

// attachSubscriptions fills the component and group ids of a page of
// subscribers, with one query per kind and chunk.
func (s *Store) attachSubscriptions(ctx context.Context, q sqlx.QueryerContext, subs []gateway.Subscriber) error {
	byID := make(map[string]*gateway.Subscriber, len(subs))
	ids := make([]any, len(subs))
	for i := range subs {
		subs[i].ComponentIDs, subs[i].GroupIDs = []string{}, []string{}
		byID[subs[i].ID], ids[i] = &subs[i], subs[i].ID
	}
	for chunk := range slices.Chunk(ids, maxBulkRows) {
		var links []struct{ SubscriberID, ComponentID string }
		if err := sqlx.SelectContext(ctx, q, &links, s.bulk(s.q.ComponentSubsOf, len(chunk)), chunk...); err != nil {
			return wrap("subscriptions of page", err)
		}
		for _, l := range links {
			byID[l.SubscriberID].ComponentIDs = append(byID[l.SubscriberID].ComponentIDs, l.ComponentID)
		}
		var groups []struct{ SubscriberID, GroupID string }
		if err := sqlx.SelectContext(ctx, q, &groups, s.bulk(s.q.GroupSubscriptionsOf, len(chunk)), chunk...); err != nil {
			return wrap("group subscriptions of page", err)
		}
		for _, l := range groups {
			byID[l.SubscriberID].GroupIDs = append(byID[l.SubscriberID].GroupIDs, l.GroupID)
		}
	}
	return nil
}

// Suppression returns why an address is on the suppression list, or ""
// when it is not.
func (s *Store) Suppression(ctx context.Context, address string) (string, error) {
	var reason string
	err := s.db.GetContext(ctx, &reason, s.q.Suppression, gateway.AddressHash(address))
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return reason, wrap("suppression", err)
}

// LockSubscriber reads a subscriber the transaction is about to change,
// locking its row on PostgreSQL, with its subscriptions and its secret as
// stored (sealed); ENOTFOUND when none has the id.
func (t *Tx) LockSubscriber(id string) (*gateway.Subscriber, error) {
	var r subscriberRow
	if err := t.tx.GetContext(t.ctx, &r, t.s.q.LockSubscriber, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("Subscriber", id)
		}
		return nil, wrap("lock subscriber", err)
	}
	sub := r.subscriber()
	return sub, t.s.loadSubscriptions(t.ctx, t.tx, sub)
}

// LockSubscriberByAddress is LockSubscriber by (kind, normalized address);
// nil and no error when there is none.
func (t *Tx) LockSubscriberByAddress(kind gateway.SubscriberKind, address string) (*gateway.Subscriber, error) {
	var r subscriberRow
	if err := t.tx.GetContext(t.ctx, &r, t.s.q.LockSubscriberByAddress, kind, address); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, wrap("lock subscriber by address", err)
	}
	sub := r.subscriber()
	return sub, t.s.loadSubscriptions(t.ctx, t.tx, sub)
}

// InsertSubscriber writes a new subscriber with its subscriptions, filling
// its id (when empty) and times; sub.Secret must be sealed already (see
// SealSecret). When (kind, address) is taken it writes nothing and returns
// false: the caller decides what a repeat means.
func (t *Tx) InsertSubscriber(sub *gateway.Subscriber) (bool, error) {
	if sub.ID == "" {
		sub.ID = gateway.NewID()
	}
	now := t.s.now()
	sub.CreatedAt, sub.UpdatedAt = now, now
	n, err := t.exec("insert subscriber", t.s.q.InsertSubscriber, sub.ID, sub.Kind, sub.Address, sub.Format, sub.Secret,
		sub.Status, sub.AllComponents, sub.TokenNonce, sub.ConsentSource, nullable(sub.ConfirmedAt), now, now)
	if err != nil || n == 0 {
		return false, err
	}
	return true, t.SetSubscriptions(sub.ID, sub.AllComponents, sub.ComponentIDs, sub.GroupIDs)
}

// SaveSubscriber writes the fields a service changes (format, sealed
// secret, status, all_components, token nonce, consent source, disabled
// reason, confirmed and unsubscribed times), not its subscriptions (see
// SetSubscriptions). ENOTFOUND when the row is gone.
func (t *Tx) SaveSubscriber(sub *gateway.Subscriber) error {
	sub.UpdatedAt = t.s.now()
	n, err := t.exec("save subscriber", t.s.q.SaveSubscriber, sub.Format, sub.Secret, sub.Status, sub.AllComponents,
		sub.TokenNonce, sub.ConsentSource, truncate(sub.DisabledReason, 500), nullable(sub.ConfirmedAt),
		nullable(sub.UnsubscribedAt), sub.UpdatedAt, sub.ID)
	if err == nil && n == 0 {
		return notFound("Subscriber", sub.ID)
	}
	return err
}

// SetSubscriptions replaces what a subscriber receives: everything (all),
// or the listed components and groups. Unknown ids are EUNPROCESSABLE.
func (t *Tx) SetSubscriptions(id string, all bool, componentIDs, groupIDs []string) error {
	now := t.s.now()
	if _, err := t.exec("set all components", t.s.q.SetAllComponents, all, now, id); err != nil {
		return err
	}
	if _, err := t.exec("delete subscriptions", t.s.q.DeleteSubscriptions, id); err != nil {
		return err
	}
	if _, err := t.exec("delete group subscriptions", t.s.q.DeleteGroupSubs, id); err != nil {
		return err
	}
	if all {
		return nil
	}
	if err := t.s.insertLinks(t.ctx, t.tx, t.s.q.InsertSubscriptions, id, componentIDs, now); err != nil {
		return orUnknown(err, "components")
	}
	return orUnknown(t.s.insertLinks(t.ctx, t.tx, t.s.q.InsertGroupSubs, id, groupIDs, now), "groups")
}

// insertLinks writes (subscriber, target, now) rows with one statement per
// chunk.
func (s *Store) insertLinks(ctx context.Context, tx *sqlx.Tx, q, id string, targets []string, now time.Time) error {
	for chunk := range slices.Chunk(targets, maxBulkRows) {
		args := make([]any, 0, 3*len(chunk))
		for _, target := range chunk {
			args = append(args, id, target, now)
		}
		if _, err := s.bulkOn(ctx, tx, q, len(chunk)).exec(ctx, args...); err != nil {
			return wrap("insert subscriptions", err)
		}
	}
	return nil
}

// orUnknown turns a foreign-key failure into a field error.
func orUnknown(err error, field string) error {
	if gateway.ErrorCode(err) == gateway.EUNPROCESSABLE {
		return gateway.FieldError(field, "names something that does not exist")
	}
	return err
}

// DeleteSubscriber erases a subscriber: its row, subscriptions, deliveries
// and own events. It reports whether there was one.
func (t *Tx) DeleteSubscriber(id string) (bool, error) {
	n, err := t.exec("delete subscriber", t.s.q.DeleteSubscriber, id)
	return n > 0, err
}

// ClaimConfirmation decides whether a confirmation mail may go to a
// subscriber now and, if so, records it in the same statement, so that
// concurrent requests send one mail between them. It returns 0 when the
// mail may go, else how long until the next may. wait(n) is how long to
// wait after the n-th mail (n >= 1); the count starts again once a day has
// passed since the last mail.
func (t *Tx) ClaimConfirmation(id string, now time.Time, wait func(sent int) time.Duration) (time.Duration, error) {
	var st struct {
		ConfirmationSentAt optTime
		ConfirmationsSent  int
	}
	if err := t.tx.GetContext(t.ctx, &st, t.s.q.ConfirmationState, id); err != nil {
		return 0, wrap("confirmation state", err)
	}
	now = storedTime(now)
	last, sent := st.ConfirmationSentAt.Time, st.ConfirmationsSent
	if !last.IsZero() && now.Sub(last) >= 24*time.Hour {
		sent = 0
	}
	threshold := now
	if !last.IsZero() && sent > 0 {
		threshold = now.Add(-wait(sent))
		if last.After(threshold) {
			return last.Sub(threshold), nil
		}
	}
	n, err := t.exec("claim confirmation", t.s.q.ClaimConfirmation, now, sent+1, id, threshold)
	if err != nil || n > 0 {
		return 0, err
	}
	return wait(sent + 1), nil // another request claimed it meanwhile
}

// Suppression is Store.Suppression inside the transaction.
func (t *Tx) Suppression(address string) (string, error) {
	var reason string
	err := t.tx.GetContext(t.ctx, &reason, t.s.q.Suppression, gateway.AddressHash(address))
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return reason, wrap("suppression", err)
}

// Suppress puts an address on the suppression list by its AddressHash.
// An address already there keeps its first reason, except that a bounce,
// complaint, failures or manual suppression replaces an unsubscribe.
func (t *Tx) Suppress(address, reason, detail string) error {
	_, err := t.exec("suppress address", t.s.q.SuppressAddress, gateway.AddressHash(address), reason,
		truncate(detail, 500), t.s.now())
	return err
}

// Unsuppress lifts an address's suppression if it has the given reason
// (empty: whatever its reason) and reports whether it did.
func (t *Tx) Unsuppress(address, reason string) (bool, error) {
	var n int64
	var err error
	if reason == "" {
		n, err = t.exec("delete suppression", t.s.q.DeleteSuppression, gateway.AddressHash(address))
	} else {
		n, err = t.exec("unsuppress address", t.s.q.UnsuppressAddress, gateway.AddressHash(address), reason)
	}
	return n > 0, err
}
