package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

func (s *Server) deliveryRoutes(api *echo.Group) {
	viewer, support := requireRole(gateway.RoleViewer), requireRole(gateway.RoleSupport)
	api.GET("/deliveries", s.listDeliveries, viewer)
	api.POST("/deliveries/retry", s.retryDeadDeliveries, support)
	api.POST("/deliveries/:id/retry", s.retryDelivery, support)
	api.GET("/events/:id/progress", s.eventProgress, viewer)
	api.POST("/events/:id/cancel", s.cancelEvent, support)
}

// deliveryJSON is a delivery as the API shows it, with every attempt.
type deliveryJSON struct {
	ID            string                 `json:"id"`
	EventID       string                 `json:"event_id"`
	SubscriberID  string                 `json:"subscriber_id"`
	Channel       gateway.Channel        `json:"channel"`
	Status        gateway.DeliveryStatus `json:"status"`
	AttemptCount  int                    `json:"attempt_count"`
	NextAttemptAt *time.Time             `json:"next_attempt_at"` // while queued or retrying
	LastCode      int                    `json:"last_code"`
	LastError     string                 `json:"last_error"`
	SentAt        *time.Time             `json:"sent_at"`
	CreatedAt     time.Time              `json:"created_at"`
	UpdatedAt     time.Time              `json:"updated_at"`
	Attempts      []attemptJSON          `json:"attempts"`
}

type attemptJSON struct {
	AttemptedAt time.Time              `json:"attempted_at"`
	DurationMS  int64                  `json:"duration_ms"`
	Outcome     gateway.AttemptOutcome `json:"outcome"`
	Code        int                    `json:"code"`
	Error       string                 `json:"error,omitempty"`
	Response    string                 `json:"response,omitempty"`
}

// toDeliveryJSON shows a delivery; with redact (a viewer or support key),
// every URL in its errors and responses is cut to scheme://host/…, since
// a webhook's URL is often its secret.
func toDeliveryJSON(d store.DeliveryLog, redact bool) deliveryJSON {
	if redact {
		d.LastError = gateway.RedactURLs(d.LastError)
		log := make([]gateway.Attempt, len(d.Log))
		for i, a := range d.Log {
			a.Error, a.Response = gateway.RedactURLs(a.Error), gateway.RedactURLs(a.Response)
			log[i] = a
		}
		d.Log = log
	}
	out := deliveryJSON{ID: strconv.FormatInt(d.ID, 10), EventID: d.EventID, SubscriberID: d.SubscriberID,
		Channel: d.Channel, Status: d.Status, AttemptCount: d.Attempts, LastCode: d.LastCode, LastError: d.LastError,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Attempts: make([]attemptJSON, 0, len(d.Log))}
	if d.Status == gateway.DeliveryQueued || d.Status == gateway.DeliveryRetrying {
		out.NextAttemptAt = &d.NextAttemptAt
	}
	if !d.SentAt.IsZero() {
		out.SentAt = &d.SentAt
	}
	for _, a := range d.Log {
		out.Attempts = append(out.Attempts, attemptJSON{AttemptedAt: a.AttemptedAt, DurationMS: a.Duration.Milliseconds(),
			Outcome: a.Outcome, Code: a.Code, Error: a.Error, Response: a.Response})
	}
	return out
}

var deliveryStatuses = map[gateway.DeliveryStatus]bool{
	gateway.DeliveryQueued: true, gateway.DeliverySending: true, gateway.DeliverySent: true, gateway.DeliveryRetrying: true,
	gateway.DeliveryDead: true, gateway.DeliverySuppressed: true, gateway.DeliveryCancelled: true,
}

// listDeliveries pages through deliveries in id order, filtered by event,
// subscriber and status; the cursor is the last id seen.
func (s *Server) listDeliveries(c echo.Context) error {
	f := store.DeliveryFilter{EventID: c.QueryParam("event"), SubscriberID: c.QueryParam("subscriber"),
		Status: gateway.DeliveryStatus(c.QueryParam("status")), Limit: 100}
	if f.Status != "" && !deliveryStatuses[f.Status] {
		return gateway.FieldError("status", "must be one of queued, sending, sent, retrying, dead, suppressed, cancelled")
	}
	var err error
	if f.After, f.Limit, err = page(c); err != nil {
		return err
	}
	ds, err := s.svc.Store.Deliveries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := list[deliveryJSON]{Data: make([]deliveryJSON, 0, len(ds))}
	redact := principal(c).Role != gateway.RoleAdmin
	for _, d := range ds {
		out.Data = append(out.Data, toDeliveryJSON(d, redact))
	}
	if len(ds) == f.Limit {
		out.NextCursor = strconv.FormatInt(ds[len(ds)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}

// retryDelivery queues one dead delivery again: 404 when there is none,
// 409 when it is not dead.
func (s *Server) retryDelivery(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return gateway.Errorf(gateway.ENOTFOUND, "Delivery %q not found.", c.Param("id"))
	}
	if err := s.svc.Store.RetryDelivery(c.Request().Context(), id); err != nil {
		return err
	}
	s.wake()
	s.audit(c, "delivery.retry", "delivery", c.Param("id"), nil)
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "status": gateway.DeliveryQueued})
}

// retryDeadDeliveries queues again every delivery that went dead since a
// time: ?status=dead&since=RFC3339 (both required, so that a bare POST
// never re-sends a month of dead letters by accident).
func (s *Server) retryDeadDeliveries(c echo.Context) error {
	if st := c.QueryParam("status"); st != string(gateway.DeliveryDead) {
		return gateway.FieldError("status", "must be dead: only dead deliveries are retried")
	}
	since, err := time.Parse(time.RFC3339, c.QueryParam("since"))
	if err != nil {
		return gateway.FieldError("since", "must be an RFC 3339 time, e.g. 2026-03-01T12:00:00Z")
	}
	n, err := s.svc.Store.RetryDead(c.Request().Context(), since)
	if err != nil {
		return err
	}
	s.wake()
	s.audit(c, "delivery.retry_dead", "delivery", "", map[string]any{"since": since, "count": n})
	return c.JSON(http.StatusOK, map[string]int{"retried": n})
}

// cancelEvent cancels an event's deliveries that have not gone out.
func (s *Server) cancelEvent(c echo.Context) error {
	id := c.Param("id")
	n, err := s.svc.Store.CancelEvent(c.Request().Context(), id)
	if err != nil {
		return err
	}
	s.audit(c, "event.cancel", "event", id, map[string]any{"cancelled": n})
	return c.JSON(http.StatusOK, map[string]any{"event_id": id, "cancelled": n})
}

// eventProgress counts an event's deliveries by status: a fan-out's progress.
func (s *Server) eventProgress(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	if _, err := s.svc.Store.Event(ctx, id); err != nil {
		return err
	}
	counts, err := s.svc.Store.DeliveryCounts(ctx, id)
	if err != nil {
		return err
	}
	total, all := 0, make(map[gateway.DeliveryStatus]int, len(deliveryStatuses))
	for st := range deliveryStatuses {
		all[st] = counts[st] // every status present, zero or not
		total += counts[st]
	}
	return c.JSON(http.StatusOK, map[string]any{"event_id": id, "total": total, "counts": all})
}

func (s *Server) wake() {
	if s.opt.Wake != nil {
		s.opt.Wake()
	}
}
