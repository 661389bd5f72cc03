package console

import (
	"context"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/preview"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/web"
	"github.com/heraldstatus/herald/templates"
)

// One incident's page: its timeline, the update form with its preview,
// publish, postmortem and resolve.

const (
	// timelineAlerts and timelineEvents bound what the timeline reads; an
	// incident of the seed's size has tens of each.
	timelineAlerts = 500
	timelineEvents = 200
)

// cannedText is a message support may start from.
type cannedText struct{ Key, Label, Text string }

// cannedTexts are the canned messages for each status and, for an
// incident automation has written to, its latest automatic wording.
func cannedTexts(inc *gateway.Incident) []cannedText {
	var out []cannedText
	if inc != nil {
		for _, u := range inc.Updates { // newest first
			if u.Automated {
				out = append(out, cannedText{"automatic", "Automatic wording (latest)", u.Body})
				break
			}
		}
	}
	return append(out,
		cannedText{"investigating", "Investigating", "We are investigating reports of a problem. We will post another update within the hour or as soon as we know more."},
		cannedText{"identified", "Identified", "We have identified the cause of the problem and are working on a fix. We will post another update within the hour."},
		cannedText{"monitoring", "Monitoring", "A fix has been put in place and we are monitoring the results."},
		cannedText{"resolved", "Resolved", defaultResolveText},
	)
}

// timelineEntry is one line of an incident's timeline.
type timelineEntry struct {
	At    time.Time
	Kind  string // alert, automatic, update, notification, postmortem
	Title string
	Body  string
	By    string
	// Alert is the alert that joined (Kind alert).
	Alert *alertView
	// Changes are the component changes an update reported.
	Changes []string
	// Progress is a notification's fan-out (Kind notification).
	Progress *progress
	Sent     bool // the notification went to subscribers (notify on)
	Planned  bool // its deliveries are written (the counts are final)
}

// kindOrder breaks ties of equal times: the cause before its effects.
var kindOrder = map[string]int{"alert": 0, "automatic": 1, "update": 1, "notification": 2, "postmortem": 3}

// incidentView is the incident page.
type incidentView struct {
	Inc          *gateway.Incident
	StatusWord   string
	Draft, Open  bool
	Resolved     bool // resolved or postmortem: the postmortem form shows
	Timeline     []timelineEntry
	Form         updateForm
	Statuses     []option
	Components   []componentChoice
	CompStatuses []option
	NextUpdate   []option
	Canned       []cannedText
	// ResolveKey is the resolve form's idempotency key (the update form's
	// is Form.Key): a form posts once, whatever the clicks and retries.
	ResolveKey string
	// Preview is the update's messages, when asked for.
	Preview *updatePreview
	// Publish is what publishing the draft will change (drafts only).
	Publish *publishView
	// Postmortem is the postmortem text in its form, PostmortemHTML its
	// preview as the status page renders it.
	Postmortem     string
	PostmortemHTML template.HTML
	PostmortemErr  string
}

// publishView is what publishing a draft will change, from
// incidents.Service.PreviewPublish: the component statuses the page will
// show, and the announcement with how many it reaches now.
type publishView struct {
	Changes    []string
	Event      gateway.EventType // "" when the latest update notifies nobody
	Recipients int
}

// publishPreview words what publishing draft id will change.
func (h *Handler) publishPreview(c echo.Context, id string) (*publishView, error) {
	svc := h.opt.Incidents
	p, err := svc.PreviewPublish(c.Request().Context(), Principal(c), id)
	if err != nil {
		return nil, err
	}
	v := &publishView{Recipients: p.Recipients}
	if p.Event != nil {
		v.Event = p.Event.Type
	}
	for _, ch := range p.Changes {
		v.Changes = append(v.Changes, ch.Name+": "+templates.ComponentStatusWord(ch.OldStatus)+" → "+templates.ComponentStatusWord(ch.NewStatus))
	}
	return v, nil
}

// updatePreview is what an update will send, rendered as the channels do.
type updatePreview struct {
	Type gateway.EventType
	// Recipients is how many subscribers the message goes to (now).
	Recipients int
	Email      *preview.Email
	Webhooks   []webhookPreview
	// NoNotice says why nothing will be sent (notify off, a draft).
	NoNotice string
}

type webhookPreview struct{ Format, Body string }

func (h *Handler) incidentPage(c echo.Context) error {
	v, err := h.incidentView(c, c.Param("id"))
	if err != nil {
		return err
	}
	// ?template=key starts the message from a canned text (a link per
	// text works without JavaScript).
	if key := c.QueryParam("template"); key != "" {
		for _, t := range v.Canned {
			if t.Key == key {
				v.Form.Template, v.Form.Body = key, t.Text
			}
		}
	}
	return h.renderIncident(c, http.StatusOK, v)
}

func (h *Handler) renderIncident(c echo.Context, status int, v *incidentView) error {
	return h.render(c, status, "incident", v.Inc.Name, v)
}

// incidentView reads everything the page shows. The form starts at the
// incident's status, notify on and the next update an hour away.
func (h *Handler) incidentView(c echo.Context, id string) (*incidentView, error) {
	st := h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	inc, err := st.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	if inc.Kind != gateway.KindIncident {
		return nil, gateway.Errorf(gateway.ENOTFOUND, "There is no incident %q (maintenances are on the Maintenance screen).", id)
	}
	v := &incidentView{Inc: inc, StatusWord: templates.StatusWord(inc.Status), Draft: !inc.Published, Open: inc.Status.Open(),
		Resolved: inc.Status == gateway.Resolved || inc.Status == gateway.Postmortem,
		Statuses: incidentStatusOptions(), CompStatuses: componentStatusOptions(), NextUpdate: nextUpdateOptions,
		Canned: cannedTexts(inc), Postmortem: inc.PostmortemBody,
		Form:       updateForm{Status: string(inc.Status), Notify: true, NextIn: "60", Chosen: map[string]string{}, Key: newIdempotencyKey()},
		ResolveKey: newIdempotencyKey()}
	if !v.Open {
		v.Form.Status, v.Form.NextIn = string(gateway.Resolved), ""
	}
	if v.Components, err = componentChoices(ctx, st, inc, nil); err != nil {
		return nil, err
	}
	if v.Timeline, err = timeline(ctx, st, inc); err != nil {
		return nil, err
	}
	if v.Draft {
		if v.Publish, err = h.publishPreview(c, id); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// timeline merges, in time order, the alerts that joined, the automatic
// and human updates, the notifications sent with their progress, and the
// postmortem.
func timeline(ctx context.Context, st *store.Store, inc *gateway.Incident) ([]timelineEntry, error) {
	alerts, err := st.IncidentAlerts(ctx, inc.ID, timelineAlerts)
	if err != nil {
		return nil, err
	}
	events, err := st.IncidentEvents(ctx, inc.ID, timelineEvents)
	if err != nil {
		return nil, err
	}
	var out []timelineEntry
	for _, a := range alerts {
		av := newAlertView(a.AlertRecord)
		out = append(out, timelineEntry{At: a.JoinedAt, Kind: "alert", Title: "Alert joined", Alert: &av})
		if a.Status == gateway.AlertResolved && !a.EndsAt.IsZero() {
			out = append(out, timelineEntry{At: a.EndsAt, Kind: "alert", Title: "Alert resolved", Alert: &av})
		}
	}
	for _, u := range inc.Updates {
		e := timelineEntry{At: u.CreatedAt, Kind: "update", Title: templates.StatusWord(u.Status), Body: u.Body, By: u.Author}
		if u.Automated {
			e.Kind, e.Title = "automatic", "Automatic: "+e.Title
		}
		for _, a := range u.AffectedComponents {
			e.Changes = append(e.Changes, a.Name+": "+templates.ComponentStatusWord(a.OldStatus)+" → "+templates.ComponentStatusWord(a.NewStatus))
		}
		out = append(out, e)
	}
	for _, ev := range events {
		p, err := eventProgress(ctx, st, ev.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, timelineEntry{At: ev.CreatedAt, Kind: "notification", Title: "Notification " + string(ev.Type),
			By: ev.Actor, Progress: &p, Sent: ev.Notify, Planned: !ev.PlannedAt.IsZero()})
	}
	if !inc.PostmortemPublishedAt.IsZero() {
		out = append(out, timelineEntry{At: inc.PostmortemPublishedAt, Kind: "postmortem", Title: "Postmortem published"})
	}
	slices.SortStableFunc(out, func(a, b timelineEntry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return kindOrder[a.Kind] - kindOrder[b.Kind]
	})
	return out, nil
}

// incidentAction is what an action on the incident page starts from: the
// service, and the page as it stands (shown again with a preview or a
// refusal).
func (h *Handler) incidentAction(c echo.Context) (*incidents.Service, *incidentView, error) {
	svc := h.opt.Incidents
	v, err := h.incidentView(c, c.Param("id"))
	return svc, v, err
}

// incidentUpdate posts support's update, or (action=preview) shows the
// messages it would send without posting it. A refused update shows the
// form again with the reason and every word typed.
func (h *Handler) incidentUpdate(c echo.Context) error {
	svc, v, err := h.incidentAction(c)
	if err != nil {
		return err
	}
	f, err := readUpdateForm(c, v.Canned)
	if err != nil {
		return err
	}
	v.Form = f
	for i := range v.Components {
		v.Components[i].Chosen = f.Chosen[v.Components[i].ID]
	}
	in, err := f.update(h.now())
	if err == nil && c.FormValue("action") == "preview" {
		if v.Preview, err = h.previewUpdate(c, svc, v, in); err == nil {
			return h.renderIncident(c, http.StatusOK, v)
		}
	}
	if err == nil {
		if _, err = svc.PostUpdate(c.Request().Context(), Principal(c), v.Inc.ID, in); err == nil {
			msg := "Update posted."
			if in.Notify && v.Inc.Published {
				msg = "Update posted; subscribers are being notified."
			}
			return h.redirect(c, incidentPath(v.Inc.ID), msg)
		}
	}
	if !formError(err) {
		return err
	}
	v.Form.Error = gateway.ErrorMessage(err)
	return h.renderIncident(c, http.StatusUnprocessableEntity, v)
}

// previewUpdate renders the email and webhooks the update would send,
// with the templates and webhook builder the channels send with
// (gateway/preview, as the API's previews), for the event that
// incidents.Service.PreviewUpdate builds by running the update in a
// transaction it rolls back.
func (h *Handler) previewUpdate(c echo.Context, svc *incidents.Service, v *incidentView, in incidents.NewUpdate) (*updatePreview, error) {
	p := &updatePreview{}
	switch {
	case !v.Inc.Published:
		p.NoNotice = "This incident is a draft: posting sends nothing until it is published."
	case !in.Notify:
		p.NoNotice = "Notify is off: this update appears on the status page but sends nothing."
	}
	if in.Body == "" {
		return nil, gateway.FieldError("body", "is required: write a message or choose a template")
	}
	ev, recipients, err := svc.PreviewUpdate(c.Request().Context(), Principal(c), v.Inc.ID, in)
	if err != nil {
		return nil, err
	}
	p.Type, p.Recipients = ev.Type, recipients
	if h.opt.Templates == nil {
		p.NoNotice = strings.TrimSpace(p.NoNotice + " Previews are not configured on this server.")
		return p, nil
	}
	now := h.now()
	if p.Email, err = preview.EventEmail(h.opt.Templates, ev, now); err != nil {
		return nil, err
	}
	if h.opt.WebhookBody != nil {
		for _, format := range []gateway.WebhookFormat{gateway.FormatGeneric, gateway.FormatStatuspage} {
			b, err := preview.Webhook(h.opt.WebhookBody, ev, format, now)
			if err != nil {
				return nil, err
			}
			p.Webhooks = append(p.Webhooks, webhookPreview{Format: string(format), Body: string(b)})
		}
	}
	return p, nil
}

// incidentPostmortem publishes the postmortem, or (action=preview) shows
// it as the status page will render it.
func (h *Handler) incidentPostmortem(c echo.Context) error {
	svc, v, err := h.incidentAction(c)
	if err != nil {
		return err
	}
	v.Postmortem = c.FormValue("body")
	if c.FormValue("action") == "preview" {
		v.PostmortemHTML = web.Markdown(v.Postmortem)
		return h.renderIncident(c, http.StatusOK, v)
	}
	_, err = svc.Postmortem(c.Request().Context(), Principal(c), v.Inc.ID, v.Postmortem, c.FormValue("notify") != "")
	if err == nil {
		return h.redirect(c, incidentPath(v.Inc.ID), "Postmortem published.")
	}
	if !formError(err) {
		return err
	}
	v.PostmortemErr = gateway.ErrorMessage(err)
	return h.renderIncident(c, http.StatusUnprocessableEntity, v)
}
