package http

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/errstatus"
	"github.com/heraldstatus/herald/gateway/ratelimit"
)

// accessLog writes one structured line per request, with the status and
// size the client got. An error a handler returns is answered here, by the
// server's error handler (HandleError), before the line is written: Echo
// otherwise answers it only after every middleware has returned, so the
// line would say 200 and 0 bytes for every 4xx. Query strings are left
// out (ingest tokens may travel as ?token=), and so are the secret
// segments of tokened paths (see redactPath).
func (s *Server) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogLatency: true, LogMethod: true, LogURIPath: true, LogRoutePath: true,
		LogRequestID: true, LogRemoteIP: true, LogResponseSize: true, LogError: true, HandleError: true,
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
				slog.String("method", v.Method), slog.String("path", redactPath(v.URIPath)), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status), slog.Duration("duration", v.Latency), slog.Int64("bytes", v.ResponseSize),
				slog.String("remote_ip", v.RemoteIP), slog.String("request_id", v.RequestID))
			return nil
		},
	})
}

// tokenedPaths are the path prefixes whose next segment is a secret (a
// subscriber's confirm, manage or unsubscribe token): whoever reads a log
// line must not be able to act as the subscriber. They are matched on the
// raw path, so a mistyped or unmatched URL is redacted too.
var tokenedPaths = []string{"/subscribe/confirm/", "/subscriptions/", "/unsubscribe/"}

// redactPath replaces the secret segment of a tokened path with "…".
func redactPath(p string) string {
	for _, prefix := range tokenedPaths {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			_, tail, _ := strings.Cut(rest, "/")
			if tail != "" {
				tail = "/" + tail
			}
			return prefix + "…" + tail
		}
	}
	return p
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
	var ge *gateway.Error
	var he *echo.HTTPError
	if !errors.As(err, &ge) && errors.As(err, &he) { // a domain error wins, as in errstatus.Of
		return he.Code, ""
	}
	code := gateway.ErrorCode(err)
	return errstatus.OfCode(code), code
}

// failureLimiter counts failed authentications (401s) per client address
// and scope, and refuses a client that failed too often, so that source
// tokens and API keys cannot be guessed at speed and wrong guesses cannot
// load the database. Each (client network, scope) has a bucket of burst
// failures that refills by one every every; a request arriving at an empty
// bucket is answered 429 with Retry-After before it is authenticated, right
// token or not. Successes take nothing. Scopes (the admin API, each ingest
// source, /v2/enqueue) keep a sender with one stale token from locking its
// own other sources out. The buckets are the one keyed token bucket's
// (gateway/ratelimit), which bounds their number (maxFailureClients), and
// clients count by gateway.ClientNetwork (IPv6 per /64).
type failureLimiter struct{ keys *ratelimit.Keyed }

const maxFailureClients = ratelimit.DefaultMaxKeys

func newFailureLimiter(burst int, every time.Duration) failureLimiter {
	return failureLimiter{ratelimit.New(ratelimit.Limit{Burst: burst, Every: every}, maxFailureClients)}
}

// wait returns how long key must wait before its next try; 0 when it may.
func (l failureLimiter) wait(key string, now time.Time) time.Duration {
	_, d := l.keys.Check(key, now)
	return d
}

// fail takes one failure from key's bucket (none when it is empty: the
// bucket never goes into debt); it reports whether the bucket is now empty.
func (l failureLimiter) fail(key string, now time.Time) bool {
	l.keys.Allow(key, now)
	ok, _ := l.keys.Check(key, now)
	return !ok
}

// limitAuthFailures puts the failure limiter in front of the routes that
// authenticate with a secret: scope names the bucket family, and the
// route's :source parameter, when it has one, is added to it.
func (s *Server) limitAuthFailures(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := gateway.ClientNetwork(c.RealIP()) + " " + scope + c.Param("source")
			now := time.Now()
			if d := s.fails.wait(key, now); d > 0 {
				return &gateway.Error{Code: gateway.ERATELIMITED, RetryAfter: ratelimit.RetryAfter(d),
					Message: "Too many failed authentications from your address; retry later."}
			}
			err := next(c)
			status := c.Response().Status
			if err != nil {
				status, _ = s.describeStatus(err)
			}
			if status == http.StatusUnauthorized && s.fails.fail(key, now) {
				s.log.Warn("authentication failures over the limit; refusing the client for a while",
					"remote_ip", c.RealIP(), "scope", scope+c.Param("source"))
			}
			return err
		}
	}
}

// noSniff tells browsers to take every answer for the type it declares
// (public pages, feeds, the APIs, the console, static files), so that no
// body a client put words into is ever run as a script or a style sheet.
func noSniff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderXContentTypeOptions, "nosniff")
		return next(c)
	}
}
