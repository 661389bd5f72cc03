package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
	"github.com/heraldstatus/herald/gateway/sources"
	"github.com/heraldstatus/herald/gateway/store"
)

// The sources screen (admins): each ingest source with its kind, the URL
// its sender posts to, what it sent last and how many alerts it has; and
// creating a source or rotating its token, which is shown once.

func (h *Handler) sourcesRoutes(r Router) {
	r.GET("/sources", gateway.RoleAdmin, h.sourceList)
	r.POST("/sources", gateway.RoleAdmin, h.sourceCreate)
	r.GET("/sources/:id/rotate", gateway.RoleAdmin, h.sourceRotateConfirm)
	r.POST("/sources/:id/rotate", gateway.RoleAdmin, h.sourceRotate)
}

// sourceRow is a source as the screen lists it.
type sourceRow struct {
	gateway.Source
	URL    string
	Alerts store.SourceAlerts
}

type sourceListView struct {
	Sources []sourceRow
	Kinds   []string
}

// ingestURL is where a source's sender posts: /ingest/{name} under the
// public URL, and PagerDuty's own /v2/enqueue (the token is the
// routing_key) for pagerduty sources.
func (h *Handler) ingestURL(c echo.Context, src gateway.Source) string {
	base := h.opt.PublicURL
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	base = strings.TrimRight(base, "/")
	if src.Kind == "pagerduty" {
		return base + "/v2/enqueue"
	}
	return base + "/ingest/" + src.Name
}

func (h *Handler) sourceList(c echo.Context) error {
	st := h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	srcs, err := st.Sources(ctx)
	if err != nil {
		return err
	}
	sums, err := st.SourceAlertSummaries(ctx)
	if err != nil {
		return err
	}
	v := sourceListView{Kinds: sources.Kinds()}
	for _, s := range srcs {
		v.Sources = append(v.Sources, sourceRow{Source: s, URL: h.ingestURL(c, s), Alerts: sums[s.ID]})
	}
	return h.render(c, http.StatusOK, "sources", "Sources", v)
}

// sourceTokenView is the page that shows a new token, the one time.
type sourceTokenView struct {
	Source  gateway.Source
	URL     string
	Token   string
	Rotated bool
}

func (h *Handler) sourceCreate(c echo.Context) error {
	svc := h.opt.Catalog
	kind := c.FormValue("kind")
	ch := catalog.SourceChange{Name: formValue(c, "name"), Kind: &kind}
	if r := strings.TrimSpace(c.FormValue("rate_limit")); r != "" {
		// The form's text must be a number, and the form takes at most a
		// million a second; the catalog checks the rest.
		n, err := strconv.ParseFloat(r, 64)
		if err != nil || n > 1e6 {
			return gateway.FieldError("rate_limit", "must be 0 (unlimited) or more requests per second")
		}
		ch.RateLimit = &n
	}
	src, token, err := svc.CreateSource(c.Request().Context(), Principal(c), ch)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusCreated, "sources-token", "Source "+src.Name,
		sourceTokenView{Source: *src, URL: h.ingestURL(c, *src), Token: token})
}

func (h *Handler) sourceRotateConfirm(c echo.Context) error {
	st := h.opt.Store
	src, err := st.Source(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "sources-rotate", "Rotate the token of "+src.Name, src)
}

// sourceRotate gives a source a new token; the old one stops at the
// commit. The catalog refuses it for a source declared in the config file,
// as for the API.
func (h *Handler) sourceRotate(c echo.Context) error {
	svc := h.opt.Catalog
	ctx, cancel := ctx(c)
	defer cancel()
	src, token, err := svc.RotateSourceToken(ctx, Principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "sources-token", "New token for "+src.Name,
		sourceTokenView{Source: *src, URL: h.ingestURL(c, *src), Token: token, Rotated: true})
}
