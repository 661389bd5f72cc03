package http

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/preview"
	"github.com/heraldstatus/herald/templates"
)

// Previews is what the server renders messages with, for template previews
// and a broadcast's dry run: the templates the channels send with, loaded
// once at start-up.
type Previews struct {
	Templates *templates.Set
	// WebhookBody builds a webhook body as the webhook channel sends it
	// (webhook.Notifier.Body); nil: webhook previews are unavailable.
	WebhookBody func(m *notify.Message, now time.Time) ([]byte, error)
}

func (s *Server) templateRoutes(api *echo.Group) {
	api.GET("/templates/:type/preview", s.previewTemplate, requireRole(gateway.RoleViewer))
}

// emailPreview is one email as rendered (the console renders with the
// same package).
type emailPreview = preview.Email

// previewTemplate renders the template of an event type with the sample
// data of templates.Sample: channel=email (the default) answers
// {"subject","text","html"}; channel=webhook answers the JSON body in the
// given format (statuspage by default, slack or generic). 404 for an
// event type without templates; 422 for an unknown channel or format.
func (s *Server) previewTemplate(c echo.Context) error {
	et := gateway.EventType(c.Param("type"))
	channel := gateway.Channel(c.QueryParam("channel"))
	if channel == "" {
		channel = gateway.ChannelEmail
	}
	format := gateway.WebhookFormat(c.QueryParam("format"))
	switch channel {
	case gateway.ChannelEmail:
		if format != "" {
			return gateway.FieldError("format", "applies to channel=webhook only")
		}
	case gateway.ChannelWebhook:
		switch format {
		case "":
			format = gateway.FormatStatuspage
		case gateway.FormatStatuspage, gateway.FormatSlack, gateway.FormatGeneric:
		default:
			return gateway.FieldError("format", "must be statuspage, slack or generic")
		}
	default:
		return gateway.FieldError("channel", "must be email or webhook")
	}
	pv := s.opt.Previews
	if pv.Templates == nil || (channel == gateway.ChannelWebhook && pv.WebhookBody == nil) {
		return gateway.Errorf(gateway.EUNAVAILABLE, "Template previews are not configured on this server.")
	}
	ev, err := templates.SampleEvent(et)
	if errors.Is(err, templates.ErrUnknown) {
		return gateway.Errorf(gateway.ENOTFOUND, "No templates for event type %q.", et)
	} else if err != nil {
		return err
	}
	if channel == gateway.ChannelEmail {
		p, err := preview.EventEmail(pv.Templates, ev, ev.CreatedAt)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
	body, err := preview.Webhook(pv.WebhookBody, ev, format, ev.CreatedAt)
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, body)
}
