// Package gateway holds Herald's domain: the types that flow through the
// pipeline (Alert, Component, Incident, Event, Delivery, Subscriber, APIKey),
// the vocabulary they use (Statuspage-compatible status names), the rules that
// need no I/O, and the error codes that services return.
//
// It imports only the standard library. Transport (gateway/http, gateway/web),
// storage (gateway/store) and the ingest formats (gateway/sources/...) depend
// on it; it depends on none of them.
package gateway
