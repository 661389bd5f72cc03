// Package ingest is the service behind Herald's ingest endpoints: it
// decodes a request body with its source's decoder, normalizes the
// alerts, deduplicates them against what is stored, routes them with the
// routing rules and stores one request's alerts in one transaction. It
// also holds what the endpoints need around that: source authentication,
// per-source rate limits and the ingest metrics.
//
// The HTTP layer (gateway/http) reads the body and maps the errors; every
// error returned here is a *gateway.Error with the code docs/api.md's status
// follows from.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/ratelimit"
	"github.com/heraldstatus/herald/gateway/sources"
	"github.com/heraldstatus/herald/gateway/sources/decode"
	"github.com/heraldstatus/herald/gateway/store"
)

// Options configure a Service; the zero value gives the defaults.
type Options struct {
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// Decoders maps source kinds to decoders; default sources.Registry.
	Decoders map[string]sources.Decoder
	// RulesTTL is how long routing rules are cached; default 5 s.
	RulesTTL time.Duration
	// FlapWindow is the window state changes are counted in
	// (correlation.flap.window); default 30 minutes.
	FlapWindow time.Duration
	// ResolveTimeout is the end an alert of a format that resolves by
	// silence (decode.Refreshed) gets when it arrives without one, counted
	// from its receipt (correlation.resolve_timeout); 0 gives none.
	ResolveTimeout time.Duration
	// StoreTimeout bounds how long a request waits for its transaction,
	// and a transaction, so that a database that hangs yields a 503 rather
	// than piled-up requests; default 10 s.
	StoreTimeout time.Duration
	// Fields bounds the labels, annotations and summary of each alert;
	// zero values take DefaultFieldLimits.
	Fields FieldLimits
	// CommitConcurrency is how many transactions of one source run at
	// once, each carrying the requests that queued meanwhile (see
	// commit.go); default 1 on SQLite, 8 on PostgreSQL.
	CommitConcurrency int
}

// Service ingests alerts. It is safe for concurrent use; its only state
// is caches and rate-limit buckets, none of which another replica needs.
type Service struct {
	store   *store.Store
	opt     Options
	log     *slog.Logger
	rules   *ruleCache
	limits  *ratelimit.Keyed // per source; its Limit is each source's own
	commits committer
}

// New returns a service storing into st.
func New(st *store.Store, opt Options) *Service {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Metrics == nil {
		opt.Metrics = metrics.New()
	}
	if opt.Decoders == nil {
		opt.Decoders = sources.Registry
	}
	if opt.RulesTTL <= 0 {
		opt.RulesTTL = 5 * time.Second
	}
	if opt.FlapWindow <= 0 {
		opt.FlapWindow = 30 * time.Minute
	}
	if opt.StoreTimeout <= 0 {
		opt.StoreTimeout = 10 * time.Second
	}
	opt.Fields = opt.Fields.orDefault()
	return &Service{store: st, opt: opt, log: opt.Log,
		rules:   &ruleCache{ttl: opt.RulesTTL, load: st.Rules},
		limits:  ratelimit.New(ratelimit.Limit{}, 0),
		commits: committer{limit: commitLimit(st, opt.CommitConcurrency)}}
}

// Store returns the store the service writes to.
func (s *Service) Store() *store.Store { return s.store }

// InvalidateRules makes the next request reload the routing rules; the
// admin API calls it after every change.
func (s *Service) InvalidateRules() { s.rules.invalidate() }

// Result counts what became of one request's alerts.
type Result struct {
	Received     int `json:"received"`
	Accepted     int `json:"accepted"`
	Deduplicated int `json:"deduplicated"`
	Stale        int `json:"stale"`
	// Unrouted counts the stored (not stale) alerts no rule matched.
	Unrouted int `json:"unrouted"`
}

// CheckContentType answers whether src's format takes a body of
// contentType: EUNSUPPORTED when not. A missing Content-Type is taken for
// the format's own, as curl users often leave it out.
func (s *Service) CheckContentType(src *gateway.Source, contentType string) error {
	dec, err := s.decoder(src)
	if err != nil || contentType == "" {
		return err
	}
	mt, _, perr := mime.ParseMediaType(contentType)
	if perr != nil || !slices.Contains(dec.ContentTypes(), mt) {
		return gateway.Errorf(gateway.EUNSUPPORTED, "Source %s (%s) takes Content-Type %s, not %q.",
			src.Name, src.Kind, strings.Join(dec.ContentTypes(), " or "), contentType)
	}
	return nil
}

func (s *Service) decoder(src *gateway.Source) (sources.Decoder, error) {
	dec, ok := s.opt.Decoders[src.Kind]
	if !ok {
		return nil, fmt.Errorf("ingest: source %s has kind %q, which no decoder handles", src.Name, src.Kind)
	}
	return dec, nil
}

// Ingest decodes body, received at now from src (already authenticated),
// and stores its alerts (see Accept). Errors: EUNSUPPORTED for a content
// type src's format does not take, EINVALID for a malformed body,
// EUNPROCESSABLE naming the field for invalid values, and Accept's.
func (s *Service) Ingest(ctx context.Context, src *gateway.Source, body []byte, contentType string, now time.Time) (Result, error) {
	if err := s.CheckContentType(src, contentType); err != nil {
		return Result{}, err
	}
	dec, err := s.decoder(src)
	if err != nil {
		return Result{}, err
	}
	alerts, err := dec.Decode(body, now)
	if err != nil {
		return Result{}, err
	}
	return s.Accept(ctx, src, alerts, now)
}

// Accept stores alerts received from src at now in one transaction:
// deduplicated by fingerprint against what is stored (see merge), routed
// by the first matching rule, and committed before it returns; concurrent
// requests of one source may share the transaction (see commit.go). On
// error nothing of the request is stored. A database that cannot be
// reached is EUNAVAILABLE with RetryAfter. Every format's alerts pass
// here, so the field limits (Options.Fields) are checked here:
// EUNPROCESSABLE naming the fields over them, and nothing stored.
func (s *Service) Accept(ctx context.Context, src *gateway.Source, alerts []gateway.Alert, now time.Time) (Result, error) {
	if len(alerts) == 0 {
		return Result{}, nil
	}
	if err := s.opt.Fields.check(alerts); err != nil {
		return Result{}, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	timeout := s.resolveTimeout(src)
	for i := range alerts {
		normalize(&alerts[i], src.ID, now)
		expire(&alerts[i], now, timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.StoreTimeout)
	defer cancel()
	return s.commit(&commitJob{ctx: ctx, source: src.ID, alerts: alerts, now: now})
}

// normalize makes a decoded alert safe to store on both databases: the
// source, times in UTC at the stored precision, no NUL characters
// (PostgreSQL refuses them in text), valid UTF-8, and a fingerprint short
// enough for the unique index (a longer one is replaced by its hash, which
// deduplicates the same way).
func normalize(a *gateway.Alert, sourceID string, now time.Time) {
	a.SourceID = sourceID
	a.ReceivedAt = now
	a.StartsAt = a.StartsAt.UTC().Truncate(time.Microsecond)
	if !a.EndsAt.IsZero() {
		a.EndsAt = a.EndsAt.UTC().Truncate(time.Microsecond)
	}
	a.Fingerprint = clean(a.Fingerprint)
	if len(a.Fingerprint) > maxFingerprint {
		sum := sha256.Sum256([]byte(a.Fingerprint))
		a.Fingerprint = "sha256:" + hex.EncodeToString(sum[:])
	}
	a.Summary, a.GeneratorURL = clean(a.Summary), clean(a.GeneratorURL)
	if !utf8.Valid(a.Raw) {
		a.Raw = []byte(strings.ToValidUTF8(string(a.Raw), "\uFFFD"))
	}
}

const maxFingerprint = 255

// resolveTimeout is the end ingest gives src's alerts that arrive firing
// without one: ResolveTimeout for a format that resolves by silence, 0
// (none) for one that carries resolution explicitly.
func (s *Service) resolveTimeout(src *gateway.Source) time.Duration {
	dec, err := s.decoder(src)
	if err != nil {
		return 0
	}
	if r, ok := dec.(decode.Refreshed); ok && r.Refreshed() {
		return s.opt.ResolveTimeout
	}
	return 0
}

// expire applies an alert's end: one sent firing with an end that has
// passed is resolved then, whatever its format (Alertmanager's own rule),
// and a firing one with no end gets now+timeout when timeout is set, an
// end that each new receipt moves on (see merge), so that a sender that
// stops sending it resolves it.
func expire(a *gateway.Alert, now time.Time, timeout time.Duration) {
	if a.Status != gateway.AlertFiring {
		return
	}
	switch {
	case !a.EndsAt.IsZero() && !a.EndsAt.After(now):
		a.Status = gateway.AlertResolved
	case a.EndsAt.IsZero() && timeout > 0:
		a.EndsAt = now.Add(timeout)
	}
}

func clean(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// storeRetryAfter is what a 503 for an unreachable database asks clients
// to wait: about how long a PostgreSQL failover or restart takes to begin
// answering again.
const storeRetryAfter = 5 * time.Second

// storeError makes a database outage EUNAVAILABLE with a RetryAfter. The
// store recognizes most outages; an internal error it does not recognize
// is checked with a ping, so that a database that is down is a 503 (which
// senders retry) and never a 500 (which some of them drop).
func (s *Service) storeError(err error) error {
	var ge *gateway.Error
	if errors.As(err, &ge) && ge.Code == gateway.EUNAVAILABLE {
		if ge.RetryAfter == 0 {
			ge.RetryAfter = storeRetryAfter
		}
		return err
	}
	if gateway.ErrorCode(err) == gateway.EINTERNAL {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if s.store.Ping(ctx) != nil {
			return &gateway.Error{Code: gateway.EUNAVAILABLE, Message: "The database is unavailable.",
				RetryAfter: storeRetryAfter, Err: err}
		}
	}
	return err
}
