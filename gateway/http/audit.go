package http

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

// listAudit pages through the audit log, newest first; the cursor is the
// id of the last entry seen.
func (s *Server) listAudit(c echo.Context) error {
	before, limit, err := page(c)
	if err != nil {
		return err
	}
	entries, err := s.Store().AuditLog(c.Request().Context(), before, limit)
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
