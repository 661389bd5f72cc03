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
	// own JSON as received in Raw.
	Decode(body []byte, now time.Time) ([]gateway.Alert, error)

	// ContentTypes lists the media types the format accepts, such as
	// "application/json"; the HTTP layer answers 415 for any other.
	ContentTypes() []string
}
