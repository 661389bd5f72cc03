// Package webhook is Herald's webhook channel: it POSTs each delivery as
// JSON in the subscriber's format (statuspage, slack or generic), signed
// per the Standard Webhooks specification, and says whether a failure is
// worth retrying; the dispatcher retries.
//
// Signing: webhook-id is derived from the delivery (MessageID), so it is
// the same on every retry and receivers can drop duplicates;
// webhook-timestamp is the attempt's time in Unix seconds, so a retry
// passes the receivers' five-minute tolerance; webhook-signature is
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" (Sign).
//
// Safety: requests go through the shared client of NewClient (the SSRF
// guard at dial time, no proxy, 15 s timeout), redirects are never
// followed, at most 64 KiB of a response is read, and at most PerHost
// requests run against one host at a time, so one slow receiver cannot
// hold every worker (a delivery that cannot get a slot within a second
// is deferred: Result.Deferred).
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/netguard"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/templates"
)

// ErrInvalid is wrapped by errors that say a delivery can never be sent as
// it is (no usable URL, an unknown format, a malformed secret): permanent.
var ErrInvalid = errors.New("webhook: delivery cannot be sent")

// DefaultDocumentationURL is meta.documentation of statuspage bodies: the
// reference of the format in Herald's docs/webhooks.md.
const DefaultDocumentationURL = "https://github.com/heraldstatus/herald/blob/main/docs/webhooks.md#statuspage-format"

// Options configure a Notifier.
type Options struct {
	// Client sends the requests; required (NewClient builds the right
	// one). Its redirect policy is replaced: redirects are never followed.
	Client *http.Client
	// Templates renders the text of slack bodies; required.
	Templates *templates.Set
	// PerHost bounds concurrent requests to one host (host:port); default
	// DefaultPerHost.
	PerHost int
	// ResponseLimit is how much of a response body is read and kept in
	// Result.Response; default 64 KiB.
	ResponseLimit int64
	// UserAgent names Herald to receivers; default "Herald-Webhooks/1".
	UserAgent string
	// DocumentationURL is statuspage's meta.documentation; default
	// DefaultDocumentationURL.
	DocumentationURL string
	// BreakAfter is how many consecutive temporary failures to one host
	// open its circuit: for BreakFor, requests to that host then fail at
	// once as temporary, with Retry-After, instead of holding a worker.
	// Default 10; negative: never.
	BreakAfter int
	// BreakFor is how long an open circuit stays open; default 1 min.
	BreakFor time.Duration
	// Now gives webhook-timestamp and generated_at; nil means time.Now.
	Now func() time.Time
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// Notifier delivers webhooks. It implements notify.Notifier and is safe
// for concurrent use.
type Notifier struct {
	client  *http.Client
	tmpl    *templates.Set
	hosts   *hostLimit
	breaker *breaker
	limit   int64
	agent   string
	docURL  string
	now     func() time.Time
	log     *slog.Logger
	formats map[gateway.WebhookFormat]func(*input) (any, error)
}

var _ notify.Notifier = (*Notifier)(nil)

// DefaultPerHost is PerHost's default (config delivery.webhook_per_host):
// as many requests per host as a bare HTTP client's usual pool of kept
// connections, enough for one busy receiver to take thousands a second,
// while a hanging one still holds only these few.
const DefaultPerHost = 16

// New checks o and returns a Notifier.
func New(o Options) (*Notifier, error) {
	if o.Client == nil {
		return nil, errors.New("webhook: no HTTP client")
	}
	if o.Templates == nil {
		return nil, errors.New("webhook: no templates")
	}
	client := *o.Client // a copy, so the caller's client keeps its policy
	client.CheckRedirect = noRedirects
	perHost := o.PerHost
	if perHost <= 0 {
		perHost = DefaultPerHost
	}
	n := &Notifier{
		client: &client, tmpl: o.Templates, hosts: newHostLimit(perHost),
		limit: o.ResponseLimit, agent: o.UserAgent, docURL: o.DocumentationURL, now: o.Now, log: o.Logger,
	}
	if n.limit <= 0 {
		n.limit = 64 << 10
	}
	switch {
	case o.BreakAfter == 0:
		o.BreakAfter = 10
	case o.BreakAfter < 0:
		o.BreakAfter = 0 // disabled
	}
	if o.BreakFor <= 0 {
		o.BreakFor = time.Minute
	}
	n.breaker = newBreaker(o.BreakAfter, o.BreakFor)
	if n.agent == "" {
		n.agent = "Herald-Webhooks/1"
	}
	if n.docURL == "" {
		n.docURL = DefaultDocumentationURL
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	n.formats = map[gateway.WebhookFormat]func(*input) (any, error){
		gateway.FormatStatuspage: func(in *input) (any, error) { return n.statuspage(in), nil },
		gateway.FormatSlack:      func(in *input) (any, error) { return n.slack(in) },
		gateway.FormatGeneric:    func(in *input) (any, error) { return generic(in), nil },
	}
	return n, nil
}

// input is what every body format builds from.
type input struct {
	m   *notify.Message
	now time.Time
}

// Body returns the JSON body m's subscriber receives (its Format, or
// statuspage when empty), as Notify would send it at time now. The error
// wraps ErrInvalid for an unknown format or an event without templates.
func (n *Notifier) Body(m *notify.Message, now time.Time) ([]byte, error) {
	if m.Event == nil || m.Subscriber == nil {
		return nil, fmt.Errorf("%w: delivery %d has no event or subscriber", ErrInvalid, m.DeliveryID)
	}
	format := m.Subscriber.Format
	if format == "" {
		format = gateway.FormatStatuspage
	}
	build, ok := n.formats[format]
	if !ok {
		return nil, fmt.Errorf("%w: unknown format %q", ErrInvalid, format)
	}
	v, err := build(&input{m: m, now: now})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // Slack's <url|text> and people's words as they are, not \u003c
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("webhook: encode body: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Notify sends m to its subscriber's URL. Classification: 2xx is success;
// 408, 429, 5xx, timeouts, connection and DNS errors are retried (with
// Retry-After in Result.RetryAfter); 410 is permanent and sets Gone; every
// other 4xx and every 3xx (redirects are not followed) is permanent; a
// target the SSRF guard refuses is permanent (the error wraps
// netguard.ErrForbidden). While the host's circuit is open (BreakAfter),
// nothing is sent: the failure is temporary, wraps ErrCircuitOpen and
// carries the rest of the pause as RetryAfter.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) (notify.Result, bool, error) {
	now := n.now()
	body, err := n.Body(m, now)
	if err != nil {
		return notify.Result{}, false, err
	}
	target, err := url.Parse(m.Subscriber.Address)
	if err != nil || target.Scheme != "http" && target.Scheme != "https" || target.Host == "" {
		return notify.Result{}, false, fmt.Errorf("%w: subscriber %s has no http(s) URL", ErrInvalid, m.Subscriber.ID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return notify.Result{}, false, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	id := MessageID(m.DeliveryID, m.Event.ID)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.agent)
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	if m.Subscriber.Secret != "" {
		sig, err := Sign(m.Subscriber.Secret, id, now, body)
		if err != nil {
			return notify.Result{}, false, fmt.Errorf("%w: subscriber %s: %w", ErrInvalid, m.Subscriber.ID, err)
		}
		req.Header.Set("webhook-signature", sig)
	}

	host := strings.ToLower(target.Host)
	if res, err := n.circuitOpen(host, now); err != nil {
		return res, true, err
	}
	release, err := n.hosts.acquire(ctx, host)
	if errors.Is(err, errHostBusy) {
		return notify.Result{Deferred: true, RetryAfter: time.Second}, true,
			fmt.Errorf("webhook: deferred: all %d requests to %s are in flight and the line has not moved for %s", n.hosts.n, target.Host, n.hosts.maxWait)
	}
	if err != nil {
		return notify.Result{}, true, fmt.Errorf("webhook: waiting for a slot at %s: %w", target.Host, err)
	}
	defer release()
	// The circuit may have opened while this request waited for a slot.
	if res, err := n.circuitOpen(host, n.now()); err != nil {
		return res, true, err
	}
	resp, err := n.client.Do(req)
	if err != nil {
		// The error names the URL, whose path is often the receiver's
		// secret (a Slack hook): keep only scheme://host/… in what is
		// stored, shown and logged.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = gateway.RedactURL(ue.URL)
		}
		if errors.Is(err, netguard.ErrForbidden) {
			return notify.Result{}, false, fmt.Errorf("webhook: delivery %d: %w", m.DeliveryID, err)
		}
		n.record(host, true)
		return notify.Result{}, true, fmt.Errorf("webhook: delivery %d: %w", m.DeliveryID, err)
	}
	defer resp.Body.Close()
	kept, _ := io.ReadAll(io.LimitReader(resp.Body, n.limit)) // a body cut short still has its status
	res := notify.Result{Code: resp.StatusCode, Response: clean(kept), RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
	n.log.Debug("webhook answered", "delivery_id", m.DeliveryID, "host", target.Host, "status", resp.StatusCode)
	res, retry, err := classify(res, resp, m.DeliveryID)
	n.record(host, retry && err != nil)
	return res, retry, err
}

// circuitOpen returns, while host's circuit is open, the temporary
// failure (wrapping ErrCircuitOpen) of a request to it, with the rest of
// the cool-off as RetryAfter; nil while the circuit is closed.
func (n *Notifier) circuitOpen(host string, now time.Time) (notify.Result, error) {
	wait, open := n.breaker.open(host, now)
	if !open {
		return notify.Result{}, nil
	}
	return notify.Result{RetryAfter: wait}, fmt.Errorf("%w: %s failed %d times in a row; paused for another %s",
		ErrCircuitOpen, host, n.breaker.n, wait.Round(time.Second))
}

// record counts a request's outcome for host's circuit and says when it opened.
func (n *Notifier) record(host string, temporary bool) {
	if n.breaker.record(host, temporary, n.now()) {
		n.log.Warn("webhook host keeps failing; pausing deliveries to it", "host", host,
			"failures", n.breaker.n, "pause", n.breaker.coolOff)
	}
}

// classify decides on a response that arrived.
func classify(res notify.Result, resp *http.Response, delivery int64) (notify.Result, bool, error) {
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return res, false, nil
	case code >= 300 && code < 400:
		return res, false, fmt.Errorf("webhook: delivery %d: %s, redirect to %q not followed", delivery, resp.Status, gateway.RedactURL(resp.Header.Get("Location")))
	case code == http.StatusGone:
		res.Gone = true
		return res, false, fmt.Errorf("webhook: delivery %d: %s: the receiver asked not to be sent to again", delivery, resp.Status)
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return res, true, fmt.Errorf("webhook: delivery %d: %s", delivery, resp.Status)
	}
	return res, false, fmt.Errorf("webhook: delivery %d: %s", delivery, resp.Status)
}

// maxRetryAfter bounds what a receiver may ask for; beyond it (or for
// nonsense, or a time in the past) the answer is zero, which leaves the
// wait to the dispatcher's own backoff.
const maxRetryAfter = 365 * 24 * time.Hour

// retryAfter parses Retry-After: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		if s <= 0 || s > int64(maxRetryAfter/time.Second) {
			return 0
		}
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 || d > maxRetryAfter {
		return 0
	}
	return d
}

// clean keeps a response as valid UTF-8 without NULs (the delivery log is
// a text column on both stores).
func clean(b []byte) string {
	return strings.ToValidUTF8(strings.ReplaceAll(string(b), "\x00", ""), "\uFFFD")
}
