package http

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// listAudit pages through the audit log, newest first; the cursor is the
// id of the last entry seen. ?actor= and ?action= (exact, or a prefix
// ending in ".") filter it.
func (s *Server) listAudit(c echo.Context) error {
	before, limit, err := page(c)
	if err != nil {
		return err
	}
	q := store.AuditQuery{Before: before, Actor: c.QueryParam("actor"), Action: c.QueryParam("action")}
	entries, err := s.svc.Store.AuditLog(c.Request().Context(), q, limit)
	if err != nil {
		return err
	}
	out := list[gateway.AuditEntry]{Data: entries}
	if out.Data == nil {
		out.Data = []gateway.AuditEntry{}
	}
	if len(entries) == limit {
		out.NextCursor = strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}
