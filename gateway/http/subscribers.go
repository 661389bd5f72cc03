package http

import (
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/bodylimit"
	"github.com/heraldstatus/herald/subscribers"
)

func (s *Server) subscribersService() (*subscribers.Service, error) {
	svc := s.svc.Subscribers
	if svc == nil {
		return nil, gateway.Errorf(gateway.EUNAVAILABLE, "Herald is starting; subscribers are not available yet.")
	}
	return svc, nil
}

// withSubscribers adapts a handler that needs the subscribers service.
func (s *Server) withSubscribers(h func(echo.Context, *subscribers.Service) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		svc, err := s.subscribersService()
		if err != nil {
			return err
		}
		return h(c, svc)
	}
}

func (s *Server) subscriberRoutes(api *echo.Group) {
	support, admin := requireRole(gateway.RoleSupport), requireRole(gateway.RoleAdmin)
	api.GET("/subscribers", s.withSubscribers(s.listSubscribers), support)
	api.POST("/subscribers", s.withSubscribers(s.createSubscriber), support)
	api.POST("/subscribers/import", s.withSubscribers(s.importSubscribers), admin)
	api.GET("/subscribers/export", s.withSubscribers(s.exportSubscribers), support)
	api.GET("/subscribers/:id", s.withSubscribers(s.getSubscriber), support)
	api.PATCH("/subscribers/:id", s.withSubscribers(s.updateSubscriber), support)
	api.DELETE("/subscribers/:id", s.withSubscribers(s.eraseSubscriber), support)
	api.POST("/subscribers/:id/rotate-secret", s.withSubscribers(s.rotateSubscriberSecret), admin)
	api.POST("/subscribers/:id/reconfirm", s.withSubscribers(s.reconfirmSubscriber), support)
}

// subscriberWithSecret is a subscriber as created or rotated: the only
// answers that carry the webhook's signing secret.
type subscriberWithSecret struct {
	*gateway.Subscriber
	Secret string `json:"secret,omitempty"`
}

type createSubscriberRequest struct {
	Email string `json:"email"`
	URL   string `json:"url"`
	// Kind and Address add a subscriber of any channel of
	// gateway/channels (email and url stay for those two kinds).
	Kind       gateway.SubscriberKind `json:"kind"`
	Address    string                 `json:"address"`
	Format     gateway.WebhookFormat  `json:"format"`
	Secret     string                 `json:"secret"`
	All        bool                   `json:"all"`
	Components []string               `json:"components"`
	Groups     []string               `json:"groups"`
	// Confirmed skips double opt-in: admins only, with ConsentSource.
	Confirmed     bool   `json:"confirmed"`
	ConsentSource string `json:"consent_source"`
}

func (s *Server) createSubscriber(c echo.Context, svc *subscribers.Service) error {
	var req createSubscriberRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	who := principal(c)
	if req.Confirmed && !who.Role.Allows(gateway.RoleAdmin) {
		return &gateway.Error{Code: gateway.EFORBIDDEN, Message: "Only an admin may add a subscriber as already confirmed.",
			Fields: map[string]string{"confirmed": "needs the admin role"}}
	}
	sub, err := svc.Subscribe(c.Request().Context(), subscribers.SubscribeRequest{Email: req.Email, URL: req.URL,
		Kind: req.Kind, Address: req.Address,
		Format: req.Format, Secret: req.Secret, All: req.All, Components: req.Components, Groups: req.Groups,
		Confirmed: req.Confirmed, ConsentSource: req.ConsentSource, Actor: who})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, subscriberWithSecret{Subscriber: sub, Secret: sub.Secret})
}

func (s *Server) listSubscribers(c echo.Context, svc *subscribers.Service) error {
	f := subscribers.ListFilter{Query: c.QueryParam("q"), Status: gateway.SubscriberStatus(c.QueryParam("status")),
		Kind: gateway.SubscriberKind(c.QueryParam("kind")), Component: c.QueryParam("component"), Cursor: c.QueryParam("cursor"),
		QueryEmailsOnly: redactSubscribers(c)}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return gateway.FieldError("limit", "must be a number from 1 to 1000")
		}
		f.Limit = n
	}
	subs, next, err := svc.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if redactSubscribers(c) {
		for i := range subs {
			subs[i] = subs[i].Redacted()
		}
	}
	return c.JSON(http.StatusOK, list[gateway.Subscriber]{Data: subs, NextCursor: next})
}

func (s *Server) getSubscriber(c echo.Context, svc *subscribers.Service) error {
	sub, err := svc.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, shownSubscriber(c, sub))
}

// redactSubscribers reports whether the request's key sees webhook URLs
// redacted (see gateway.Subscriber.Redacted): every key but an admin's,
// as deliveries show them.
func redactSubscribers(c echo.Context) bool { return principal(c).Role != gateway.RoleAdmin }

// shownSubscriber is sub as the request's key may see it.
func shownSubscriber(c echo.Context, sub *gateway.Subscriber) *gateway.Subscriber {
	if redactSubscribers(c) {
		r := sub.Redacted()
		return &r
	}
	return sub
}

type updateSubscriberRequest struct {
	All           *bool                     `json:"all"`
	Components    *[]string                 `json:"components"`
	Groups        *[]string                 `json:"groups"`
	Format        *gateway.WebhookFormat    `json:"format"`
	Status        *gateway.SubscriberStatus `json:"status"`
	ConsentSource *string                   `json:"consent_source"`
}

func (s *Server) updateSubscriber(c echo.Context, svc *subscribers.Service) error {
	var req updateSubscriberRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	sub, err := svc.Update(c.Request().Context(), principal(c), c.Param("id"), subscribers.Patch{All: req.All,
		Components: req.Components, Groups: req.Groups, Format: req.Format, Status: req.Status, ConsentSource: req.ConsentSource})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, shownSubscriber(c, sub))
}

// eraseSubscriber is the erasure request: the row and everything of it
// goes, not just a flag.
func (s *Server) eraseSubscriber(c echo.Context, svc *subscribers.Service) error {
	if err := svc.Erase(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// reconfirmSubscriber queues a fresh confirmation mail: 202, the
// subscriber (pending until the person clicks), 409 naming the consent
// rule that refuses it, 429 when the address had one too recently.
func (s *Server) reconfirmSubscriber(c echo.Context, svc *subscribers.Service) error {
	sub, err := svc.Reconfirm(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	if s.opt.Wake != nil {
		s.opt.Wake()
	}
	return c.JSON(http.StatusAccepted, shownSubscriber(c, sub))
}

func (s *Server) rotateSubscriberSecret(c echo.Context, svc *subscribers.Service) error {
	sub, err := svc.RotateSecret(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, subscriberWithSecret{Subscriber: sub, Secret: sub.Secret})
}

// importSubscribers streams a CSV body (email,components,confirmed) into
// the store and answers with the report: counts and the invalid rows by
// line. ?confirmed=true imports every row as confirmed; confirmed rows
// need ?consent_source=.
func (s *Server) importSubscribers(c echo.Context, svc *subscribers.Service) error {
	if ct := c.Request().Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return gateway.Errorf(gateway.EUNSUPPORTED, "Content-Type must be text/csv.")
		case mt == "text/csv", mt == "application/csv", mt == "text/plain", mt == "application/octet-stream":
		default:
			return gateway.Errorf(gateway.EUNSUPPORTED, "Content-Type must be text/csv.")
		}
	}
	var confirmed bool
	if v := c.QueryParam("confirmed"); v != "" {
		var err error
		if confirmed, err = strconv.ParseBool(v); err != nil {
			return gateway.FieldError("confirmed", "must be true or false")
		}
	}
	rep, err := svc.Import(c.Request().Context(), principal(c), c.Request().Body,
		subscribers.ImportOptions{Confirmed: confirmed, ConsentSource: c.QueryParam("consent_source")})
	if n, over := bodylimit.Over(err); over {
		return gateway.Errorf(gateway.ETOOLARGE, "The file is larger than the limit of %d bytes; %d rows were imported before it. Import the rest with `herald subscribers import`, or split the file.",
			n, rep.Added)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// exportSubscribers streams every subscriber as CSV.
func (s *Server) exportSubscribers(c echo.Context, svc *subscribers.Service) error {
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="subscribers.csv"`)
	h.Set("Cache-Control", "no-store")
	n, err := svc.Export(c.Request().Context(), c.Response(), redactSubscribers(c))
	if err != nil && !c.Response().Committed {
		return err
	}
	if err != nil {
		// The status line is gone; a cut-off file is all the client sees.
		s.log.Error("export subscribers", "err", err, "rows", n)
		return nil
	}
	s.audit(c, "subscriber.export", "subscriber", "", map[string]any{"rows": n})
	return nil
}
