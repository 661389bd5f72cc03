package ingest

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// Token returns the source token a request presents, where monitoring
// tools can put one: `Authorization: Bearer T` (Prometheus, Grafana,
// Alertmanager's http_config), HTTP Basic with T as the password (tools
// that only know basic auth; the user name is ignored), or `?token=T`
// (tools that only let you set a URL). A request with an Authorization
// header is judged by the header alone. "" when there is none.
func Token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if _, pass, ok := r.BasicAuth(); ok {
			return pass
		}
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return r.URL.Query().Get("token")
}

// Source returns the source that /ingest/{name} names: ENOTFOUND when none.
func (s *Service) Source(ctx context.Context, name string) (*gateway.Source, error) {
	return s.store.SourceByName(ctx, name)
}

// Authenticate checks that token is src's, in constant time:
// EUNAUTHORIZED when it is missing or wrong.
func Authenticate(src *gateway.Source, token string) error {
	if token == "" {
		return gateway.Errorf(gateway.EUNAUTHORIZED,
			"A source token is required: Authorization: Bearer <token>, HTTP Basic with the token as password, or ?token=.")
	}
	if !gateway.SecretMatches(token, src.TokenHash) {
		return gateway.Errorf(gateway.EUNAUTHORIZED, "Invalid token for source %s.", src.Name)
	}
	return nil
}

// SourceByToken returns the source whose token is token, for endpoints
// where the token picks the source (PagerDuty's routing_key):
// EUNAUTHORIZED when no source has it.
func (s *Service) SourceByToken(ctx context.Context, token string) (*gateway.Source, error) {
	if token == "" {
		return nil, Authenticate(&gateway.Source{}, "")
	}
	return s.store.SourceByToken(ctx, token)
}

// Allow applies src's rate limit to one request at now: ERATELIMITED, with
// how long to wait in RetryAfter, when the source is over it.
func (s *Service) Allow(src *gateway.Source, now time.Time) error {
	if d, ok := s.allow(src, now); !ok {
		return rateLimited(src, d)
	}
	return nil
}
