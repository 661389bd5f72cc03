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
	var before int64
	if cur := c.QueryParam("cursor"); cur != "" {
		n, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || n <= 0 {
			return gateway.FieldError("cursor", "is not a cursor from a previous page")
		}
		before = n
	}
	limit := 100
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return gateway.FieldError("limit", "must be a number from 1 to 1000")
		}
		limit = n
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
