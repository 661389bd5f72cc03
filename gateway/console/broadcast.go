package console

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/preview"
	"github.com/heraldstatus/herald/gateway/store"
)

// The broadcast screen: support's own message to the subscribers of some
// components, or to everyone. Sending takes two steps, compose then
// confirm, and the confirm page states the exact number of recipients
// (the planner's dry run, the same selection that plans the deliveries).
// The compose page carries an idempotency key made when it was rendered,
// so a double click, a browser retry or a resubmit after going back sends
// nothing more: the planner returns the first broadcast.

func (h *Handler) broadcastRoutes(r Router) {
	r.GET("/broadcasts", gateway.RoleViewer, h.broadcastList)
	r.GET("/broadcasts/new", gateway.RoleSupport, h.broadcastCompose)
	r.POST("/broadcasts/preview", gateway.RoleSupport, h.broadcastPreview)
	r.POST("/broadcasts/edit", gateway.RoleSupport, h.broadcastEdit)
	r.POST("/broadcasts", gateway.RoleSupport, h.broadcastSend)
	r.GET("/broadcasts/:id", gateway.RoleViewer, h.broadcastProgress)
}

// htmlBody is the inside of an email's <body>, to show the rendered email
// within the console's page. The email is html/template's output from
// Herald's templates (support's words arrive escaped), and the console's
// Content-Security-Policy blocks any inline script or style in it.
var htmlBody = regexp.MustCompile(`(?is)<body[^>]*>(.*)</body>`)

func emailBodyHTML(doc string) template.HTML {
	if m := htmlBody.FindStringSubmatch(doc); m != nil {
		doc = m[1]
	}
	return template.HTML(doc) //nolint:gosec // rendered by html/template, see htmlBody
}

// planner is the fan-out planner over the store, waking the dispatcher
// when it planned deliveries; the API's broadcasts use the same.
func (h *Handler) planner(st *store.Store) *notify.Planner {
	return &notify.Planner{Store: st, Metrics: h.opt.Metrics, Log: h.log, Wake: h.opt.Wake}
}

// newIdempotencyKey is the key a compose form carries: one per form
// rendered, so every repeat of that form's submit is the same broadcast.
func newIdempotencyKey() string { return "console-" + rand.Text() }

// componentGroup is a group of components as a form's checkboxes show
// them; the components without a group come last, under "Other".
type componentGroup struct {
	Name       string
	Components []gateway.Component
}

// componentPicker is the "component-choices" partial's data: a checkbox
// named "components" per component, by group, those in Chosen checked,
// and None said when there are no components.
type componentPicker struct {
	Groups []componentGroup
	Chosen []string // ids
	None   string
}

// Chose reports whether component id is checked.
func (p componentPicker) Chose(id string) bool { return slices.Contains(p.Chosen, id) }

// componentGroups lists every component under its group, in page order.
func componentGroups(c echo.Context, st *store.Store) ([]componentGroup, map[string]string, error) {
	cx, cancel := ctx(c)
	defer cancel()
	groups, err := st.ComponentGroups(cx)
	if err != nil {
		return nil, nil, err
	}
	comps, err := st.Components(cx)
	if err != nil {
		return nil, nil, err
	}
	index := make(map[string]int, len(groups))
	out := make([]componentGroup, 0, len(groups)+1)
	for _, g := range groups {
		index[g.ID] = len(out)
		out = append(out, componentGroup{Name: g.Name})
	}
	other := componentGroup{Name: "Other"}
	names := make(map[string]string, len(comps))
	for _, comp := range comps {
		names[comp.ID] = comp.Name
		if i, ok := index[comp.GroupID]; ok {
			out[i].Components = append(out[i].Components, comp)
		} else {
			other.Components = append(other.Components, comp)
		}
	}
	if len(other.Components) > 0 {
		out = append(out, other)
	}
	kept := out[:0]
	for _, g := range out {
		if len(g.Components) > 0 {
			kept = append(kept, g)
		}
	}
	return kept, names, nil
}

// broadcastForm is the compose form's fields, as posted or to render.
type broadcastForm struct {
	Subject, Body string
	Everyone      bool
	Components    []string // ids
	Key           string
}

func readBroadcastForm(c echo.Context) (broadcastForm, error) {
	params, err := c.FormParams()
	if err != nil {
		return broadcastForm{}, gateway.Errorf(gateway.EINVALID, "The form could not be read.")
	}
	// Browsers post a textarea's line breaks as CRLF, and a hidden
	// field's as they were parsed (LF) or as CRLF, depending on the path:
	// one form of the words keeps a repeat of the same form the same
	// broadcast (the planner compares the words).
	body := strings.ReplaceAll(params.Get("body"), "\r\n", "\n")
	f := broadcastForm{Subject: params.Get("subject"), Body: body,
		Everyone: params.Get("audience") == "everyone", Key: params.Get("key")}
	if !f.Everyone {
		f.Components = params["components"]
	}
	return f, nil
}

// broadcast is the planner's request for the form.
func (f broadcastForm) broadcast(c echo.Context, h *Handler, dryRun bool) notify.Broadcast {
	return notify.Broadcast{Subject: f.Subject, Body: f.Body, Components: f.Components, DryRun: dryRun,
		IdempotencyKey: f.Key, Actor: Principal(c), Page: h.opt.Page}
}

// composeView is the compose page.
type composeView struct {
	Form   broadcastForm
	Groups []componentGroup
	Error  string
	Fields map[string]string
}

// Choices are the form's component checkboxes.
func (v composeView) Choices() componentPicker {
	return componentPicker{Groups: v.Groups, Chosen: v.Form.Components,
		None: "There are no components yet: the broadcast goes to everyone."}
}

func (h *Handler) broadcastCompose(c echo.Context) error {
	return h.renderCompose(c, http.StatusOK, broadcastForm{Everyone: true}, nil)
}

// renderCompose shows the compose form with f's values and, after a
// refused preview or send, what was wrong. A form without a key gets one.
func (h *Handler) renderCompose(c echo.Context, status int, f broadcastForm, problem error) error {
	st := h.opt.Store
	groups, _, err := componentGroups(c, st)
	if err != nil {
		return err
	}
	if f.Key == "" {
		f.Key = newIdempotencyKey()
	}
	v := composeView{Form: f, Groups: groups}
	if problem != nil {
		v.Error = gateway.ErrorMessage(problem)
		var ge *gateway.Error
		if errors.As(problem, &ge) {
			v.Fields = ge.Fields
		}
	}
	return h.render(c, status, "broadcast-new", "New broadcast", v)
}

// confirmView is the confirm page: who receives what, and the Send button.
type confirmView struct {
	Form       broadcastForm
	Components []string // names
	Recipients int
	// Previewed is the count an earlier preview showed, when it differs.
	Previewed int
	Changed   bool
	Preview   *preview.Email
	HTML      template.HTML
}

// refusal is an error the compose form can show next to the fields: the
// planner's validation (EUNPROCESSABLE, EINVALID).
func refusal(err error) bool {
	code := gateway.ErrorCode(err)
	return code == gateway.EUNPROCESSABLE || code == gateway.EINVALID
}

// broadcastEdit goes back from the confirm page to the words, keeping the
// form's key.
func (h *Handler) broadcastEdit(c echo.Context) error {
	f, err := readBroadcastForm(c)
	if err != nil {
		return err
	}
	return h.renderCompose(c, http.StatusOK, f, nil)
}

func (h *Handler) broadcastPreview(c echo.Context) error {
	f, err := readBroadcastForm(c)
	if err != nil {
		return err
	}
	return h.confirmBroadcast(c, f, -1)
}

// confirmBroadcast runs the dry run and shows the confirm page; previewed
// is the count an earlier preview showed (-1 for none), to say so when it
// changed.
func (h *Handler) confirmBroadcast(c echo.Context, f broadcastForm, previewed int) error {
	if !f.Everyone && len(f.Components) == 0 {
		return h.renderCompose(c, http.StatusUnprocessableEntity, f,
			gateway.FieldError("components", "choose at least one component, or send to everyone"))
	}
	st := h.opt.Store
	cx, cancel := ctx(c)
	defer cancel()
	res, err := h.planner(st).Broadcast(cx, f.broadcast(c, h, true))
	if refusal(err) {
		return h.renderCompose(c, http.StatusUnprocessableEntity, f, err)
	} else if err != nil {
		return err
	}
	v := confirmView{Form: f, Recipients: res.Recipients, Previewed: previewed, Changed: previewed >= 0 && previewed != res.Recipients}
	_, names, err := componentGroups(c, st)
	if err != nil {
		return err
	}
	for _, id := range res.Event.ComponentIDs {
		v.Components = append(v.Components, names[id])
	}
	// The form sends component ids; the planner resolved them (and names).
	v.Form.Components = res.Event.ComponentIDs
	if v.Preview, err = preview.EventEmail(h.opt.Templates, res.Event, h.now()); err != nil {
		return err
	}
	if v.Preview != nil {
		v.HTML = emailBodyHTML(v.Preview.HTML)
	}
	status := http.StatusOK
	if v.Changed {
		status = http.StatusConflict
	}
	return h.render(c, status, "broadcast-confirm", "Confirm broadcast", v)
}

// broadcastSend sends the broadcast the confirm page showed. A post that
// did not come through the confirm page (no previewed count) is shown the
// confirm page first; when the number of recipients changed since the
// preview, the confirm page says so and waits for another click. A
// repeat of a sent form (its key) sends nothing and shows the first
// broadcast's progress.
func (h *Handler) broadcastSend(c echo.Context) error {
	f, err := readBroadcastForm(c)
	if err != nil {
		return err
	}
	previewed, err := strconv.Atoi(c.FormValue("previewed"))
	if err != nil || previewed < 0 {
		return h.confirmBroadcast(c, f, -1)
	}
	st := h.opt.Store
	cx, cancel := ctx(c)
	defer cancel()
	p := h.planner(st)
	dry, err := p.Broadcast(cx, f.broadcast(c, h, true))
	if refusal(err) {
		return h.renderCompose(c, http.StatusUnprocessableEntity, f, err)
	} else if err != nil {
		return err
	}
	if dry.Recipients != previewed {
		// Subscribers came or went since the preview: show the new
		// count and wait for the person to confirm it.
		return h.confirmBroadcast(c, f, previewed)
	}
	res, err := p.Broadcast(cx, f.broadcast(c, h, false))
	switch {
	case gateway.ErrorCode(err) == gateway.ECONFLICT:
		// This form's key sent a different message (edited after sending):
		// a fresh form, with the words kept, sends it as a new broadcast.
		f.Key = newIdempotencyKey()
		return h.renderCompose(c, http.StatusConflict, f, gateway.Errorf(gateway.ECONFLICT,
			"This form was already used to send a different broadcast. Nothing was sent; check the words and preview again to send this one."))
	case refusal(err):
		return h.renderCompose(c, http.StatusUnprocessableEntity, f, err)
	case err != nil:
		return err
	}
	to := Prefix + "/broadcasts/" + res.Event.ID
	if res.Replayed {
		return h.redirect(c, to, "This broadcast was already sent; nothing more was sent.")
	}
	h.audit(c, "broadcast.create", "event", res.Event.ID, map[string]any{
		"subject": res.Event.Payload.Broadcast.Subject, "components": res.Event.ComponentIDs, "recipients": res.Recipients})
	msg := "Broadcast sent to " + plural(res.Recipients, "recipient") + "."
	if res.Recipients != previewed {
		// Subscribers changed between the last dry run and the planning.
		msg = fmt.Sprintf("Broadcast sent to %s (the preview said %d: subscribers changed meanwhile).", plural(res.Recipients, "recipient"), previewed)
	}
	return h.redirect(c, to, msg)
}

// broadcastRow is one past broadcast in the list.
type broadcastRow struct {
	Event    *gateway.Event
	Subject  string
	Progress progress
}

// broadcastListLimit bounds the list: the newest broadcasts are the ones
// support watches.
const broadcastListLimit = 50

func (h *Handler) broadcastList(c echo.Context) error {
	st := h.opt.Store
	cx, cancel := ctx(c)
	defer cancel()
	events, err := st.EventsOfType(cx, gateway.EventBroadcast, broadcastListLimit)
	if err != nil {
		return err
	}
	rows := make([]broadcastRow, 0, len(events))
	for _, ev := range events {
		row := broadcastRow{Event: ev}
		if b := ev.Payload.Broadcast; b != nil {
			row.Subject = b.Subject
		}
		if row.Progress, err = eventProgress(cx, st, ev.ID); err != nil {
			return err
		}
		rows = append(rows, row)
	}
	return h.render(c, http.StatusOK, "broadcast", "Broadcasts", rows)
}

// progressView is one broadcast's page.
type progressView struct {
	Event      *gateway.Event
	Message    gateway.BroadcastMessage
	Components []string
	Progress   progress
	// Done is true once nothing is left to send; until then the page
	// refreshes itself.
	Done bool
}

// progressRefresh is how often a broadcast's page reloads while it sends:
// often enough to watch, gentle on a database busy with the fan-out.
const progressRefresh = 5

func (h *Handler) broadcastProgress(c echo.Context) error {
	st := h.opt.Store
	cx, cancel := ctx(c)
	defer cancel()
	ev, err := st.Event(cx, c.Param("id"))
	if err == nil && ev.Type != gateway.EventBroadcast {
		err = gateway.Errorf(gateway.ENOTFOUND, "There is no broadcast %q.", c.Param("id"))
	}
	if err != nil {
		return err
	}
	v := progressView{Event: ev}
	if ev.Payload.Broadcast != nil {
		v.Message = *ev.Payload.Broadcast
	}
	_, names, err := componentGroups(c, st)
	if err != nil {
		return err
	}
	for _, id := range ev.ComponentIDs {
		v.Components = append(v.Components, names[id])
	}
	if v.Progress, err = eventProgress(cx, st, ev.ID); err != nil {
		return err
	}
	v.Done = !ev.PlannedAt.IsZero() && v.Progress.Done()
	if !v.Done {
		// A Refresh header rather than a script: the page has no form
		// whose input a reload could lose.
		c.Response().Header().Set("Refresh", strconv.Itoa(progressRefresh))
	}
	return h.render(c, http.StatusOK, "broadcast-progress", "Broadcast", v)
}
