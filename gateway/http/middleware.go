package http

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/heraldstatus/herald/gateway"
)

// accessLog writes one structured line per request. Query strings are left
// out: ingest tokens may travel as ?token=.
func (s *Server) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogLatency: true, LogMethod: true, LogURIPath: true, LogRoutePath: true,
		LogRequestID: true, LogRemoteIP: true, LogResponseSize: true, LogError: true,
		Skipper: func(c echo.Context) bool {
			p := c.Path()
			return p == "/healthz" || p == "/metrics"
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelWarn
			}
			s.log.LogAttrs(c.Request().Context(), level, "http request",
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status), slog.Duration("duration", v.Latency), slog.Int64("bytes", v.ResponseSize),
				slog.String("remote_ip", v.RemoteIP), slog.String("request_id", v.RequestID))
			return nil
		},
	})
}

// observe records each request's duration by route pattern (never the raw
// path, whose cardinality is unbounded).
func (s *Server) observe() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			status := c.Response().Status
			if err != nil {
				status, _ = s.describeStatus(err)
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			s.opt.Metrics.HTTPRequests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).
				Observe(time.Since(start).Seconds())
			return err
		}
	}
}

func (s *Server) describeStatus(err error) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code, ""
	}
	code := gateway.ErrorCode(err)
	if st, ok := statusOf[code]; ok {
		return st, code
	}
	return http.StatusInternalServerError, code
}

// limitBody caps request bodies at n bytes: reading past it fails with
// http.MaxBytesError, which bind reports as 413, and a declared
// Content-Length over it is refused before any reading.
func (s *Server) limitBody(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > n {
				return tooLarge(n)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, n)
			return next(c)
		}
	}
}

func tooLarge(n int64) error {
	return gateway.Errorf(gateway.ETOOLARGE, "The request body is larger than the limit of %d bytes.", n)
}
