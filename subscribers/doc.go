// Package subscribers is the subscriber domain: who may subscribe and how
// their addresses are checked and normalized, double opt-in, the personal
// manage and unsubscribe links, suppression, the admin operations, and
// CSV import/export. It holds the rules; gateway/store keeps the rows and
// gateway/http and gateway/web serve the API and the pages.
//
// The Service is built over a store with a key (LoadKey): HMAC-SHA256 link
// tokens (never stored, never ids) and the AES-GCM sealing of webhook
// signing secrets are derived from it. The confirmation mail is an event
// (subscriber.confirm) written in the subscribe transaction; the planner
// sends it to that subscriber alone, whatever its status, and sends
// nothing else to a subscriber that is not active.
package subscribers
