package email_test

import (
	"fmt"
	"testing"

	"github.com/heraldstatus/herald/gateway"
)

// BenchmarkBuild builds one event's message for subscriber after
// subscriber, as a fan-out does: the CPU the email channel spends per
// message before the SMTP transaction.
//
//	go test -run '^$' -bench Build -benchmem ./gateway/notify/email/
func BenchmarkBuild(b *testing.B) {
	builder := newBuilder(b, nil)
	m := message(b, gateway.EventIncidentCreated, 1)
	const mac = "q0Zb3mX_Yk2-Lr9TfW1cJg"
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		sub := *m.Subscriber
		sub.ID = fmt.Sprintf("sub%07d", i)
		sub.Address = fmt.Sprintf("user%d@example.com", i)
		msg := *m
		msg.DeliveryID, msg.Subscriber = int64(i), &sub
		msg.ManageURL = "https://status.example.com/subscriptions/manage." + sub.ID + "." + mac
		msg.UnsubscribeURL = "https://status.example.com/unsubscribe/unsubscribe." + sub.ID + "." + mac
		if _, err := builder.Build(&msg); err != nil {
			b.Fatal(err)
		}
	}
}
