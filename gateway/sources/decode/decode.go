// Package decode defines the interface every ingest format implements.
//
// It is a leaf package so that each format (gateway/sources/alertmanager,
// …/grafana, …) can assert that it implements Decoder while
// gateway/sources, which lists the formats, imports them all. Callers use
// it through the alias sources.Decoder.
package decode

import (
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// Decoder turns one request body into normalized alerts. Authentication is
// not its business: the HTTP layer checks the source token before calling
// Decode.
type Decoder interface {
	// Decode parses body, received at now, into alerts. It returns a
	// *gateway.Error with code gateway.EINVALID when the body is not the
	// JSON the format expects (the message says where), and with code
	// gateway.EUNPROCESSABLE and Fields filled when fields have invalid
	// values. A body that carries no alert yields no alerts and no error.
	//
	// Every returned alert has a non-empty Fingerprint, a valid Status, a
	// valid Severity or none (an update that says nothing of it, such as
	// PagerDuty's acknowledge: ingest keeps the stored one), non-nil
	// Labels and Annotations, times in UTC with StartsAt
	// set and EndsAt zero or not before StartsAt, ReceivedAt = now, and its
	// own JSON as received in Raw. The alerts of one body may share
	// memory (their Raw parts of one copy of the body, Labels and
	// Annotations maps of the same contents): no caller modifies them.
	Decode(body []byte, now time.Time) ([]gateway.Alert, error)

	// ContentTypes lists the media types the format accepts, such as
	// "application/json"; the HTTP layer answers 415 for any other.
	ContentTypes() []string
}

// Refreshed is implemented by formats whose senders keep re-sending an
// alert for as long as it fires and may resolve it by simply no longer
// sending it, as Alertmanager's API (POST /api/v2/alerts) expects of
// Prometheus and amtool. Ingest gives such an alert that arrives without
// an end one of its own, correlation.resolve_timeout after it was last
// received, as Alertmanager applies its resolve_timeout. Formats that
// carry resolution explicitly (webhooks with a status, PagerDuty's
// resolve) do not implement it: their firing alerts fire until resolved.
type Refreshed interface {
	// Refreshed reports whether alerts of the format resolve by silence.
	Refreshed() bool
}
