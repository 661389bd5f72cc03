package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/bodylimit"
	"github.com/heraldstatus/herald/gateway/http/csrf"
	"github.com/heraldstatus/herald/subscribers"
)

// defaultPublicBodyLimit is limits.public_body's default: what the public
// forms read when Options.BodyLimit is not set.
const defaultPublicBodyLimit = 64 << 10

// honeypot is the form field people never see and bots fill in.
const honeypot = "website"

// subscribeRoutes registers the pages people subscribe, confirm, manage
// and leave with. The forms carry a CSRF token (see package csrf: the
// browser's Sec-Fetch-Site where it sends one, else a token the server
// signed for the nonce of a SameSite=Strict, HttpOnly cookie, repeated in
// the form's body); the one-click unsubscribe POST of RFC 8058 carries
// none, since mail clients send it, and needs none: its secret token is
// the authority.
func (h *Handler) subscribeRoutes(e *echo.Echo) {
	h.csrf = csrf.New(csrf.Config{
		Cookie: "_csrf", Path: "/", Secure: func(echo.Context) bool { return strings.HasPrefix(h.opt.Page.URL, "https://") },
		Sign: func(c echo.Context, data []byte) ([]byte, error) {
			return h.opt.Subscribers.SignForm(data), nil
		},
		OnError: func(err error, c echo.Context) error {
			return &gateway.Error{Code: gateway.EFORBIDDEN, Err: err,
				Message: "This form has expired or did not come from this page. Please reload the page and try again."}
		},
	})
	// ready: before the services exist, every one of these answers 503
	// (the routes are registered again with them once Herald is ready), so
	// no handler below runs without them.
	ready := func(fn echo.HandlerFunc) echo.HandlerFunc {
		return readyIf(h.opt.Subscribers != nil && h.opt.Store != nil, "Subscriptions are starting; try again in a few seconds.", fn)
	}
	page := func(fn echo.HandlerFunc) echo.HandlerFunc { return h.page(ready(h.private(fn))) }
	form := func(fn echo.HandlerFunc) echo.HandlerFunc { return page(h.csrf(fn)) }
	e.GET("/subscribe", form(h.subscribeForm))
	e.POST("/subscribe", ready(h.subscribePost))
	e.GET("/subscribe/confirm/:token", page(h.confirm))
	e.GET("/subscriptions/:token", form(h.manage))
	e.POST("/subscriptions/:token", form(h.manageSave))
	e.POST("/subscriptions/:token/leave", form(h.manageLeave))
	e.GET("/unsubscribe/:token", page(h.unsubscribePage))
	e.POST("/unsubscribe/:token", page(h.unsubscribe))
}

// subscribeEnabled reports whether the subscribe pages are served.
func (h *Handler) subscribeEnabled() bool { return h.opt.Subscribers != nil || h.opt.Subscribe }

// private marks a page personal: never stored by caches, its URL (which
// may hold a token) never sent as a referrer, its body size bounded: a
// body past Options.BodyLimit (limits.public_body), declared or chunked, is
// ETOOLARGE (413, gateway/http/bodylimit) before the form is parsed, since the form and JSON parsers would only
// see a body cut short and answer as if it were malformed.
func (h *Handler) private(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hdr := c.Response().Header()
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("Referrer-Policy", "no-referrer")
		r := c.Request()
		if err := bodylimit.Limit(c.Response(), r, h.opt.BodyLimit, nil); err != nil {
			return err
		}
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(r.Body)
			if _, over := bodylimit.Over(err); over {
				return bodylimit.Check(err)
			}
			r.Body = io.NopCloser(bytes.NewReader(b)) // a read error leaves a short body: the form says what is missing
		}
		return fn(c)
	}
}

// subscribeView is the subscribe form.
type subscribeView struct {
	layoutView
	CSRF   string
	Email  string
	Error  string
	Picker pickerView
}

func csrfToken(c echo.Context) string { return csrf.Token(c) }

func (h *Handler) subscribeForm(c echo.Context) error {
	picker, err := h.picker(c, nil)
	if err != nil {
		return err
	}
	return h.html(c, http.StatusOK, "subscribe", subscribeView{layoutView: h.layout("Subscribe"), CSRF: csrfToken(c), Picker: picker})
}

// subscribePost takes the form, or JSON ({"email", "components"?,
// "groups"?} → 202) from scripts, which need no CSRF token: a browser
// sends JSON across sites only after a CORS preflight, which fails here.
func (h *Handler) subscribePost(c echo.Context) error {
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt == echo.MIMEApplicationJSON {
		return h.private(h.subscribeJSON)(c)
	}
	return h.page(h.private(h.csrf(h.subscribeSubmit)))(c)
}

func (h *Handler) subscribeSubmit(c echo.Context) error {
	svc := h.opt.Subscribers
	email := strings.TrimSpace(c.FormValue("email"))
	if c.FormValue(honeypot) != "" {
		h.log.Info("subscribe form: honeypot filled in; pretending", "remote_ip", c.RealIP())
		return h.checkInbox(c, email)
	}
	all, comps, groups, err := chosen(c)
	if err == nil {
		_, err = svc.Subscribe(c.Request().Context(), subscribers.SubscribeRequest{Email: email, All: all,
			Components: comps, Groups: groups, IP: c.RealIP()})
	}
	if gateway.ErrorCode(err) == gateway.EUNPROCESSABLE {
		picker, lerr := h.picker(c, &gateway.Subscriber{AllComponents: all, ComponentIDs: comps, GroupIDs: groups})
		if lerr != nil {
			return lerr
		}
		return h.html(c, http.StatusUnprocessableEntity, "subscribe", subscribeView{layoutView: h.layout("Subscribe"),
			CSRF: csrfToken(c), Email: email, Error: fieldMessage(err), Picker: picker})
	}
	if err != nil {
		return err
	}
	return h.checkInbox(c, email)
}

func (h *Handler) checkInbox(c echo.Context, email string) error {
	return h.html(c, http.StatusOK, "message", messageView{layoutView: h.layout("Check your inbox"), Heading: "Check your inbox",
		Lines: []string{"We sent a confirmation link to " + email + ".",
			"Open it to start receiving updates from " + h.pageName() + ". Nothing arrives until you do."},
		Link: "/", LinkText: "Back to the status page"})
}

// subscribeRequest is the JSON form of a subscription.
type subscribeRequest struct {
	Email      string   `json:"email"`
	Components []string `json:"components"`
	Groups     []string `json:"groups"`
}

func (h *Handler) subscribeJSON(c echo.Context) error {
	svc := h.opt.Subscribers
	var req subscribeRequest
	if err := c.Bind(&req); err != nil {
		return gateway.Errorf(gateway.EINVALID, "The body must be JSON: {\"email\": \"…\", \"components\": [\"…\"]}.")
	}
	sub, err := svc.Subscribe(c.Request().Context(), subscribers.SubscribeRequest{Email: req.Email,
		All: len(req.Components) == 0 && len(req.Groups) == 0, Components: req.Components, Groups: req.Groups, IP: c.RealIP()})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"status": sub.Status, "email": sub.Address,
		"message": "Check your inbox: the subscription starts once its confirmation link is opened."})
}

// chosen reads the picker: scope=all, or the components and groups ticked.
func chosen(c echo.Context) (all bool, comps, groups []string, err error) {
	if err := c.Request().ParseForm(); err != nil {
		return false, nil, nil, gateway.Errorf(gateway.EINVALID, "The form could not be read.")
	}
	f := c.Request().PostForm
	if f.Get("scope") != "some" {
		return true, nil, nil, nil
	}
	comps, groups = f["components"], f["groups"]
	if len(comps) == 0 && len(groups) == 0 {
		return false, nil, nil, gateway.FieldError("components", "choose at least one component, or all of them")
	}
	return false, comps, groups, nil
}

// fieldMessage words a validation error for the form.
func fieldMessage(err error) string {
	var ge *gateway.Error
	if errors.As(err, &ge) && len(ge.Fields) > 0 {
		for field, problem := range ge.Fields {
			switch {
			case field == "email":
				return "Please enter a valid email address (" + problem + ")."
			case strings.HasPrefix(problem, "choose"):
				return "Please " + problem + "."
			case strings.HasPrefix(field, "components"), strings.HasPrefix(field, "groups"):
				return "Please check the components you chose: " + problem + "."
			}
		}
	}
	return gateway.ErrorMessage(err)
}

// html renders page with status, for the pages that are not cached.
func (h *Handler) html(c echo.Context, status int, page string, data any) error {
	body, err := h.tmpl.render(page, data)
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, body)
}

// retryAfter sets Retry-After from a rate-limit error.
func retryAfter(c echo.Context, err error) {
	var ge *gateway.Error
	if errors.As(err, &ge) && ge.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(ge.RetryAfter.Seconds())))
	}
}
