package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// UptimeDays is how many days the uptime bars show, today included.
const UptimeDays = 90

const day = 24 * time.Hour

// The weights of Statuspage's uptime: a minute of major outage is a
// minute of downtime, a minute of partial outage counts as 0.3 of one,
// degraded performance and maintenance count as none (Statuspage's
// "Display historical uptime of components").
const (
	weightMajor   = 1.0
	weightPartial = 0.3
)

// Day is one day of a component's uptime bar.
type Day struct {
	Date time.Time // midnight UTC
	// Worst is the worst status the component had that day (by
	// ComponentStatus.Rank); "" when the day was not observed (before the
	// component existed): no data, never an outage.
	Worst gateway.ComponentStatus
	// Major, Partial and Degraded are the time spent in each status
	// that day.
	Major, Partial, Degraded time.Duration
	// Down is the day's downtime as Statuspage weighs it: Major plus 0.3
	// of Partial.
	Down     time.Duration
	Observed time.Duration
}

// Uptime is a component's history over UptimeDays.
type Uptime struct {
	Days []Day // oldest first, the last is today
	// Percent is the share of the days the component existed (each a
	// whole day of 24 h, today included, as Statuspage counts them) that
	// was not Down, from 0 to 100; 100 when it existed on none of them.
	Percent float64
}

// ComputeUptime rebuilds a component's status over the days ending today
// from its status changes since the first of them (sorted by time; other
// components' changes are ignored). The status before the first change is
// that change's old status; without changes it is the current status. A
// change after now (the page's clock runs by the minute) only tells what
// the status was until it.
func ComputeUptime(c gateway.Component, changes []store.StatusChange, now time.Time, days int) Uptime {
	now = now.UTC()
	start := now.Truncate(day).Add(-time.Duration(days-1) * day)
	u := Uptime{Days: make([]Day, days)}
	for i := range u.Days {
		u.Days[i].Date = start.Add(time.Duration(i) * day)
	}
	var mine []store.StatusChange
	for _, ch := range changes {
		if ch.ComponentID == c.ID {
			mine = append(mine, ch)
		}
	}
	status := c.Status
	if len(mine) > 0 {
		status = mine[0].OldStatus
	}
	from := start
	if c.CreatedAt.After(from) {
		from = c.CreatedAt.UTC()
	}
	for _, ch := range mine {
		if !ch.ChangedAt.Before(now) {
			break
		}
		u.add(start, from, ch.ChangedAt, status)
		if ch.ChangedAt.After(from) {
			from = ch.ChangedAt
		}
		status = ch.NewStatus
	}
	u.add(start, from, now, status)

	var down time.Duration
	existed := 0
	for _, d := range u.Days {
		down += d.Down
		if d.Observed > 0 {
			existed++
		}
	}
	u.Percent = 100
	if total := time.Duration(existed) * day; total > 0 {
		u.Percent = 100 * float64(total-down) / float64(total)
	}
	return u
}

// add records status over [from, to), split across the days it spans.
func (u *Uptime) add(start, from, to time.Time, status gateway.ComponentStatus) {
	if from.Before(start) {
		from = start
	}
	for from.Before(to) {
		i := int(from.Sub(start) / day)
		if i >= len(u.Days) {
			return
		}
		end := u.Days[i].Date.Add(day)
		if to.Before(end) {
			end = to
		}
		d := &u.Days[i]
		span := end.Sub(from)
		d.Observed += span
		switch status {
		case gateway.MajorOutage:
			d.Major += span
		case gateway.PartialOutage:
			d.Partial += span
		case gateway.DegradedPerformance:
			d.Degraded += span
		}
		d.Down = time.Duration(weightMajor*float64(d.Major) + weightPartial*float64(d.Partial))
		if d.Worst == "" {
			d.Worst = status
		} else {
			d.Worst = d.Worst.Worse(status)
		}
		from = end
	}
}

// Tip is the day's tooltip: its date and the time it spent in each
// status that is not operational, worst first, as Statuspage's bars say
// it: "Sep 16, 2021: Major Outage 1 h 57 min, Degraded Performance 3 min".
func (d Day) Tip() string {
	date := d.Date.Format("Jan 2, 2006")
	var parts []string
	for _, p := range []struct {
		status gateway.ComponentStatus
		span   time.Duration
	}{{gateway.MajorOutage, d.Major}, {gateway.PartialOutage, d.Partial}, {gateway.DegradedPerformance, d.Degraded}} {
		if p.span > 0 {
			parts = append(parts, statusLabel(p.status)+" "+duration(p.span))
		}
	}
	switch {
	case d.Worst == "":
		return date + ": no data"
	case len(parts) > 0:
		return date + ": " + strings.Join(parts, ", ")
	case d.Worst == gateway.UnderMaintenance:
		return date + ": under maintenance, no downtime"
	}
	return date + ": no downtime"
}

// duration words a span for people: "2 h 5 min", "40 min", "under a minute".
func duration(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0 && m == 0:
		return "under a minute"
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

// percent words an uptime share with two decimals, never rounding a
// share under 100 up to "100.00%".
func percent(p float64) string {
	s := fmt.Sprintf("%.2f%%", p)
	if p < 100 && s == "100.00%" {
		return "99.99%"
	}
	return s
}
