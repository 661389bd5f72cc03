// Package subscribers is the subscriber domain: who may subscribe and how
// their addresses are checked and normalized, double opt-in, the personal
// manage and unsubscribe links, suppression, and import/export. It holds
// the rules; gateway/store keeps the rows and gateway/http serves the pages.
package subscribers
