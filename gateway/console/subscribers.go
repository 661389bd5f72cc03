package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/channels"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/subscribers"
)

// The subscribers screen: search, one subscriber's page (subscriptions,
// recent deliveries and their attempts), unsubscribe, erase, resend a
// pending confirmation, and CSV import (subscribers_import.go) and export.
// Addresses are personal data, so the whole screen needs support; every
// change goes through subscribers.Service, as the admin API's does, and is
// audited there.

const (
	// subscribersPage is how many subscribers a page of the list shows.
	subscribersPage = 50
	// recentDeliveries is how many of a subscriber's deliveries its page
	// shows, newest first; deliveryScanPages bounds the pages read to
	// find them (the store lists deliveries oldest first).
	recentDeliveries  = 20
	deliveryScanPages = 50
)

func (h *Handler) subscribersRoutes(r Router) {
	r.GET("/subscribers", gateway.RoleSupport, h.subscriberList)
	r.GET("/subscribers/export", gateway.RoleSupport, h.subscriberExport)
	r.GET("/subscribers/import", gateway.RoleAdmin, h.subscriberImportForm)
	r.upload("/subscribers/import", gateway.RoleAdmin, importBodyLimit, h.subscriberImport)
	r.GET("/subscribers/import/:job", gateway.RoleAdmin, h.subscriberImportProgress)
	r.GET("/subscribers/:id", gateway.RoleSupport, h.subscriberPage)
	r.POST("/subscribers/:id/unsubscribe", gateway.RoleSupport, h.subscriberUnsubscribe)
	r.POST("/subscribers/:id/resend", gateway.RoleSupport, h.subscriberResend)
	r.GET("/subscribers/:id/erase", gateway.RoleSupport, h.subscriberEraseConfirm)
	r.POST("/subscribers/:id/erase", gateway.RoleSupport, h.subscriberErase)
}

// subscriberFilter is the list's search form, as submitted.
type subscriberFilter struct {
	Query, Status, Kind, Component string
}

// query is the filter as URL parameters, for links to further pages.
func (f subscriberFilter) query(cursor string) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Query, "status": f.Status, "kind": f.Kind, "component": f.Component, "cursor": cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

type subscriberListView struct {
	Filter     subscriberFilter
	Statuses   []gateway.SubscriberStatus
	Kinds      []string // channels.Kinds(): the filter shows every channel
	Components []gateway.Component
	Rows       []subscriberRow
	Next       string // the next (older) page; "" on the last
}

// subscriberRow is a subscriber with its subscriptions named.
type subscriberRow struct {
	gateway.Subscriber
	Targets []string
}

func (h *Handler) subscriberList(c echo.Context) error {
	svc, st := h.opt.Subscribers, h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	// Addresses are stored normalized (lower-cased, trimmed; see
	// subscribers.NormalizeEmail) and the search is a case-insensitive
	// substring, so a pasted " Ann@Example.COM " finds ann@example.com.
	f := subscriberFilter{Query: strings.TrimSpace(c.QueryParam("q")), Status: c.QueryParam("status"),
		Kind: c.QueryParam("kind"), Component: c.QueryParam("component")}
	cat, err := loadCatalog(ctx, st)
	if err != nil {
		return err
	}
	v := subscriberListView{Filter: f, Components: cat.components, Kinds: channels.Kinds(),
		Statuses: []gateway.SubscriberStatus{gateway.SubscriberPending, gateway.SubscriberActive, gateway.SubscriberUnsubscribed, gateway.SubscriberDisabled}}
	lf := subscribers.ListFilter{Query: f.Query, QueryEmailsOnly: redactSubscribers(c), Status: gateway.SubscriberStatus(f.Status),
		Kind: gateway.SubscriberKind(f.Kind), Component: f.Component, Cursor: c.QueryParam("cursor"), Limit: subscribersPage}
	subs, next, err := svc.List(ctx, lf)
	if err != nil {
		return err
	}
	for _, s := range subs {
		v.Rows = append(v.Rows, subscriberRow{Subscriber: shownSubscriber(c, s), Targets: cat.targets(s)})
	}
	lf.Cursor = next
	if lf.Cursor != "" {
		v.Next = Prefix + "/subscribers?" + f.query(lf.Cursor)
	}
	return h.render(c, http.StatusOK, "subscribers", "Subscribers", v)
}

type subscriberView struct {
	Sub        subscriberRow
	Deliveries []store.DeliveryLog
	// More is set when the subscriber has more deliveries than shown.
	More bool
}

func (h *Handler) subscriberPage(c echo.Context) error {
	st := h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	_, sub, err := h.pathSubscriber(ctx, c)
	if err != nil {
		return err
	}
	cat, err := loadCatalog(ctx, st)
	if err != nil {
		return err
	}
	shown := shownSubscriber(c, *sub)
	v := subscriberView{Sub: subscriberRow{Subscriber: shown, Targets: cat.targets(*sub)}}
	if v.Deliveries, v.More, err = lastDeliveries(ctx, st, sub.ID); err != nil {
		return err
	}
	if redactSubscribers(c) {
		for i := range v.Deliveries {
			d := &v.Deliveries[i]
			d.LastError = gateway.RedactURLs(d.LastError)
			d.Log = slices.Clone(d.Log)
			for j := range d.Log {
				d.Log[j].Error, d.Log[j].Response = gateway.RedactURLs(d.Log[j].Error), gateway.RedactURLs(d.Log[j].Response)
			}
		}
	}
	return h.render(c, http.StatusOK, "subscribers-show", shown.Address, v)
}

// redactSubscribers reports whether the signed-in user sees webhook URLs
// redacted (see gateway.Subscriber.Redacted): everyone but admins, as the
// API shows them to keys.
func redactSubscribers(c echo.Context) bool { return Principal(c).Role != gateway.RoleAdmin }

// shownSubscriber is sub as the signed-in user may see it.
func shownSubscriber(c echo.Context, sub gateway.Subscriber) gateway.Subscriber {
	if redactSubscribers(c) {
		return sub.Redacted()
	}
	return sub
}

// pathSubscriber returns the subscribers service and the subscriber of
// the path's :id (ENOTFOUND when there is none).
func (h *Handler) pathSubscriber(ctx context.Context, c echo.Context) (*subscribers.Service, *gateway.Subscriber, error) {
	svc := h.opt.Subscribers
	sub, err := svc.Get(ctx, c.Param("id"))
	return svc, sub, err
}

// lastDeliveries returns a subscriber's most recent deliveries, newest
// first, with their attempts. The store pages them oldest first, so this
// reads forward and keeps the tail; one subscriber has a delivery per
// notification, so the pages are few.
func lastDeliveries(ctx context.Context, st *store.Store, subscriberID string) ([]store.DeliveryLog, bool, error) {
	var tail []store.DeliveryLog
	total := 0
	f := store.DeliveryFilter{SubscriberID: subscriberID, Limit: 100}
	for range deliveryScanPages {
		page, err := st.Deliveries(ctx, f)
		if err != nil {
			return nil, false, err
		}
		total += len(page)
		tail = append(tail, page...)
		if len(tail) > recentDeliveries {
			tail = slices.Clone(tail[len(tail)-recentDeliveries:])
		}
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	slices.Reverse(tail)
	return tail, total > len(tail), nil
}

func (h *Handler) subscriberUnsubscribe(c echo.Context) error {
	svc := h.opt.Subscribers
	ctx, cancel := ctx(c)
	defer cancel()
	to := gateway.SubscriberUnsubscribed
	if _, err := svc.Update(ctx, Principal(c), c.Param("id"), subscribers.Patch{Status: &to}); err != nil {
		return err
	}
	return h.redirect(c, subscriberPath(c.Param("id")), "Unsubscribed: nothing more is sent to this subscriber.")
}

// subscriberResend sends a fresh confirmation (subscribers.Reconfirm):
// to a pending subscriber, or to one who unsubscribed and asked support
// to be added back. It never makes anyone active: only the person's click
// does. Resends to one address are spaced out as every confirmation is
// (429 when too soon), and the consent rules' refusals are 409.
func (h *Handler) subscriberResend(c echo.Context) error {
	svc := h.opt.Subscribers
	ctx, cancel := ctx(c)
	defer cancel()
	sub, err := svc.Reconfirm(ctx, Principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	h.wake()
	return h.redirect(c, subscriberPath(sub.ID),
		"Confirmation queued: the subscriber stays pending until they click its link.")
}

func (h *Handler) subscriberEraseConfirm(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	_, sub, err := h.pathSubscriber(ctx, c)
	if err != nil {
		return err
	}
	shown := shownSubscriber(c, *sub)
	return h.render(c, http.StatusOK, "subscribers-erase", "Erase subscriber", &shown)
}

func (h *Handler) subscriberErase(c echo.Context) error {
	svc := h.opt.Subscribers
	ctx, cancel := ctx(c)
	defer cancel()
	if err := svc.Erase(ctx, Principal(c), c.Param("id")); err != nil {
		return err
	}
	return h.redirect(c, Prefix+"/subscribers", "Subscriber erased: the address and its history are gone.")
}

// subscriberExport streams every subscriber as CSV, as the API's export
// does, and audits it with the row count.
func (h *Handler) subscriberExport(c echo.Context) error {
	svc := h.opt.Subscribers
	hdr := c.Response().Header()
	hdr.Set("Content-Type", "text/csv; charset=utf-8")
	hdr.Set("Content-Disposition", `attachment; filename="subscribers.csv"`)
	// No ctx(c) bound here: a large export may take longer than a page.
	n, err := svc.Export(c.Request().Context(), c.Response(), redactSubscribers(c))
	if err != nil {
		if !c.Response().Committed {
			return err
		}
		// The status line is gone; a cut-off file is all the browser sees.
		h.log.Error("console export subscribers", "err", err, "rows", n)
		return nil
	}
	h.audit(c, "subscriber.export", "subscriber", "", map[string]any{"rows": n})
	return nil
}

func subscriberPath(id string) string { return Prefix + "/subscribers/" + url.PathEscape(id) }

// pageNumber parses an optional positive number parameter.
func pageNumber(c echo.Context, name string) (int64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, gateway.FieldError(name, "must be a positive number")
	}
	return n, nil
}
