package config

import (
	"testing"
	"time"
)

// TestDeliveryKeys reads the delivery block and refuses a lease that a
// send could outlast (the send would then be taken over and sent twice).
func TestDeliveryKeys(t *testing.T) {
	c := mustLoad(t, writeFile(t, "c.yml", "delivery: {lease: 20s, send_timeout: 10s, claim_batch: 64, workers: 32, webhook_per_host: 2}\n"), nil)
	if want := (Delivery{Lease: Duration(20 * time.Second), SendTimeout: Duration(10 * time.Second), ClaimBatch: 64, Workers: 32,
		WebhookPerHost: 2}); c.Delivery != want {
		t.Errorf("delivery = %+v, want %+v", c.Delivery, want)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"delivery: {lease: 30s}\n", "c.yml:1: delivery.lease: must be longer than delivery.send_timeout (1m)"},
		{"delivery: {send_timeout: 0}\n", "delivery.send_timeout: must be positive"},
		{"delivery: {claim_batch: 0, workers: -1}\n", "delivery.claim_batch: must be at least 1"},
		{"delivery: {workers: 0}\n", "delivery.workers: must be at least 1"},
		{"delivery: {webhook_per_host: 0}\n", "delivery.webhook_per_host: must be at least 1"},
		{"delivery: {leas: 1m}\n", `unknown key "leas"`},
	} {
		_, err := Load(writeFile(t, "c.yml", tt.yaml), envMap(nil))
		assertErrorHas(t, err, tt.want)
	}
}
