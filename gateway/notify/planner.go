package notify

import (
	"context"
	"log/slog"

	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/store"
)

// Planner turns events into deliveries. The set-wise work is the store's
// (one INSERT … SELECT per event); the planner counts what it planned and
// wakes the dispatcher, so that a message goes out as soon as it is
// planned rather than at the next poll.
type Planner struct {
	Store   *store.Store
	Metrics *metrics.Metrics // optional
	Log     *slog.Logger     // optional
	// Wake, when set, is called after deliveries were planned.
	Wake func()
}

// pendingBatch bounds how many outbox events one PlanPending call plans.
const pendingBatch = 100

// Plan plans one event's deliveries and returns how many it inserted: 0
// when the event was planned before. ENOTFOUND when it does not exist.
func (p *Planner) Plan(ctx context.Context, eventID string) (int, error) {
	n, err := p.Store.PlanEvent(ctx, eventID)
	if err != nil {
		return 0, err
	}
	p.planned(n)
	return n, nil
}

// PlanPending plans up to a hundred events nobody planned yet (the outbox:
// written in another transaction, or by a process that stopped before
// planning) and returns how many events it planned and how many
// deliveries it inserted.
func (p *Planner) PlanPending(ctx context.Context) (events, deliveries int, err error) {
	events, deliveries, err = p.Store.PlanPending(ctx, pendingBatch)
	if events > 0 && p.Log != nil {
		p.Log.Debug("planned pending events", "events", events, "deliveries", deliveries)
	}
	p.planned(deliveries)
	return events, deliveries, err
}

func (p *Planner) planned(n int) {
	if n == 0 {
		return
	}
	if p.Metrics != nil {
		p.Metrics.DeliveriesPlanned.Add(float64(n))
	}
	if p.Wake != nil {
		p.Wake()
	}
}
