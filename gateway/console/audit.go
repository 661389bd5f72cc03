package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// The audit screen (admins): the audit log newest first, by page, with
// who did what to which target; filtered by actor (the person's or key's
// name) and action ("subscriber.erase", or a prefix such as "subscriber.").

const auditPage = 50

type auditFilter struct{ Actor, Action string }

type auditView struct {
	Filter  auditFilter
	Entries []gateway.AuditEntry
	Next    string // the next (older) page
}

func (h *Handler) auditRoutes(r Router) {
	r.GET("/audit", gateway.RoleAdmin, h.auditList)
}

func (h *Handler) auditList(c echo.Context) error {
	st := h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	before, err := pageNumber(c, "before")
	if err != nil {
		return err
	}
	v := auditView{Filter: auditFilter{Actor: strings.TrimSpace(c.QueryParam("actor")), Action: strings.TrimSpace(c.QueryParam("action"))}}
	v.Entries, err = st.AuditLog(ctx, store.AuditQuery{Before: before, Actor: v.Filter.Actor, Action: v.Filter.Action}, auditPage)
	if err != nil {
		return err
	}
	if len(v.Entries) == auditPage {
		before = v.Entries[len(v.Entries)-1].ID
	} else {
		before = 0 // the oldest entry is on this page
	}
	if before > 1 {
		q := url.Values{"before": {strconv.FormatInt(before, 10)}}
		if v.Filter.Actor != "" {
			q.Set("actor", v.Filter.Actor)
		}
		if v.Filter.Action != "" {
			q.Set("action", v.Filter.Action)
		}
		v.Next = Prefix + "/audit?" + q.Encode()
	}
	return h.render(c, http.StatusOK, "audit", "Audit log", v)
}
