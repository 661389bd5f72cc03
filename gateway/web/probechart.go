package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// chartRuns is how many of a probe's latest runs its chart draws.
const chartRuns = 60

// Chart geometry (SVG user units).
const (
	chartW, chartH = 300.0, 40.0
	chartPad       = 3.0
)

// probeChart is a probed component's response-time chart: a polyline of
// its latest runs' durations (oldest left), a mark at each failed run,
// and its success rate over the kept day. Rendered as inline SVG, so the
// page needs no JavaScript.
type probeChart struct {
	Probe  string
	Points string
	Fails  []string // x of each failed run
	Last   string
	Peak   string
	Runs   int
	Uptime string
}

// probeCharts draws the chart of each component that has a probe (the
// first by name when it has several), as of now.
func probeCharts(r *request) (map[string]*probeChart, error) {
	ps, err := r.st.Probes(r.ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]*probeChart{}
	for _, p := range ps {
		if p.ComponentID == "" || out[p.ComponentID] != nil {
			continue
		}
		rs, err := r.st.ProbeResults(r.ctx, p.ID, r.now.Add(-store.ProbeResultsAge), chartRuns)
		if err != nil {
			return nil, err
		}
		if len(rs) == 0 {
			continue
		}
		good, total, err := r.st.ProbeUptime(r.ctx, p.ID, r.now.Add(-store.ProbeResultsAge))
		if err != nil {
			return nil, err
		}
		out[p.ComponentID] = drawChart(p, rs, good, total)
	}
	return out, nil
}

// drawChart lays out rs (newest first, as the store returns them).
func drawChart(p gateway.Probe, rs []gateway.ProbeResult, good, total int) *probeChart {
	peak := time.Duration(0)
	for _, r := range rs {
		peak = max(peak, r.Duration)
	}
	c := &probeChart{Probe: p.Name, Runs: len(rs), Last: ms(rs[0].Duration), Peak: ms(peak)}
	if total > 0 {
		c.Uptime = strconv.FormatFloat(100*float64(good)/float64(total), 'f', 2, 64) + "%"
	}
	var pts []string
	n := len(rs)
	for i := range n {
		r := rs[n-1-i] // oldest first
		x := chartW / 2
		if n > 1 {
			x = float64(i) * chartW / float64(n-1)
		}
		y := chartH - chartPad
		if peak > 0 {
			y -= float64(r.Duration) / float64(peak) * (chartH - 2*chartPad)
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		if !r.OK {
			c.Fails = append(c.Fails, fmt.Sprintf("%.1f", x))
		}
	}
	c.Points = strings.Join(pts, " ")
	return c
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
}
