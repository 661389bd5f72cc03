// Command herald-load posts alerts to a running Herald and reports how many
// it accepted per second and how long requests took, to reproduce the
// ingest figures in README.md:
//
//	herald-load -url http://127.0.0.1:8080 -source prom -token hsrc_… \
//	    -format alertmanager -batch 100 -concurrency 8 -duration 20s
//	herald-load … -batch 1 -rate 1000 -concurrency 32 -duration 20s
//	herald-load -url http://127.0.0.1:9093 -path /api/v2/alerts -format alertmanager-api …
//
// The last form posts the same alertmanager-api bodies to Alertmanager
// itself, for docs/bench/ingest-vs-alertmanager.sh's side-by-side figures.
//
// Without -rate, each of -concurrency workers sends its next request as
// soon as the last is answered (throughput). With -rate, requests are
// scheduled at that many a second in all, and each latency is measured
// from the request's scheduled time, so that a server that falls behind
// shows in the percentiles instead of slowing the schedule down.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	url, source, token, format string
	path                       string
	concurrency, batch         int
	requests                   int64
	duration                   time.Duration
	rate                       float64
	keys                       int64
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "pages" { // GETs of the read side: pages.go
		os.Exit(pagesMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "sink" { // a counting SMTP and webhook receiver: sink.go
		os.Exit(sinkMain(os.Args[2:]))
	}
	var c config
	flag.StringVar(&c.url, "url", "http://127.0.0.1:8080", "Herald's base URL")
	flag.StringVar(&c.source, "source", "", "source name (/ingest/{source}); not used by -format pagerduty")
	flag.StringVar(&c.token, "token", os.Getenv("HERALD_SOURCE_TOKEN"), "the source's token (default $HERALD_SOURCE_TOKEN)")
	flag.StringVar(&c.format, "format", "alertmanager", "alertmanager | alertmanager-api | grafana | pagerduty | generic")
	flag.IntVar(&c.concurrency, "concurrency", 8, "requests in flight at once")
	flag.IntVar(&c.batch, "batch", 100, "alerts per request (pagerduty: always 1)")
	flag.Int64Var(&c.requests, "requests", 0, "stop after this many requests (0: use -duration)")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "stop after this long, unless -requests is set")
	flag.Float64Var(&c.rate, "rate", 0, "requests per second in all (0: as fast as answered)")
	flag.Int64Var(&c.keys, "keys", 0, "cycle through this many distinct alerts (0: every alert new), to measure deduplication")
	flag.StringVar(&c.path, "path", "", "post to this path instead of the format's (e.g. /api/v2/alerts with -format alertmanager-api: Alertmanager itself, the same bodies; then -source and -token are not needed)")
	flag.Parse()
	if err := c.check(); err != nil {
		fmt.Fprintln(os.Stderr, "herald-load:", err)
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep := run(ctx, c)
	rep.print(os.Stdout, c)
	if rep.ok == 0 {
		os.Exit(1)
	}
}

func (c *config) check() error {
	if _, ok := formats[c.format]; !ok {
		return fmt.Errorf("unknown -format %q", c.format)
	}
	if c.format == "pagerduty" {
		c.batch = 1
	} else if c.source == "" && c.path == "" {
		return errors.New("-source is required")
	}
	if c.token == "" && c.path == "" {
		return errors.New("-token is required")
	}
	if c.concurrency < 1 || c.batch < 1 || c.rate < 0 {
		return errors.New("-concurrency and -batch must be at least 1, -rate not negative")
	}
	return nil
}

// report is what the workers observed.
type report struct {
	ok, failed int64
	statuses   map[string]int64
	firstError string
	latencies  []time.Duration
	elapsed    time.Duration
}

// run sends requests until -requests or -duration is reached.
func run(ctx context.Context, c config) *report {
	nonce := make([]byte, 4)
	_, _ = rand.Read(nonce)
	p := &payload{format: c.format, batch: c.batch, keys: c.keys, nonce: hex.EncodeToString(nonce), token: c.token}
	target := strings.TrimRight(c.url, "/") + fmt.Sprintf(formats[c.format], c.source)
	if c.format == "pagerduty" {
		target = strings.TrimRight(c.url, "/") + formats[c.format]
	}
	if c.path != "" {
		target = strings.TrimRight(c.url, "/") + c.path
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: c.concurrency, MaxIdleConnsPerHost: c.concurrency, IdleConnTimeout: time.Minute, DisableCompression: true}}

	var next atomic.Int64
	var mu sync.Mutex
	rep := &report{statuses: map[string]int64{}}
	start := time.Now()
	deadline := start.Add(c.duration)
	var interval time.Duration
	if c.rate > 0 {
		interval = time.Duration(float64(time.Second) / c.rate)
	}
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Go(func() {
			var lat []time.Duration
			stats := map[string]int64{}
			var ok, failed int64
			var firstErr string
			for ctx.Err() == nil {
				seq := next.Add(1) - 1
				if c.requests > 0 && seq >= c.requests {
					break
				}
				sent := time.Now()
				if interval > 0 {
					sent = start.Add(time.Duration(seq) * interval)
					time.Sleep(time.Until(sent))
				}
				if c.requests == 0 && sent.After(deadline) {
					break
				}
				status, err := post(ctx, client, target, c.token, c.format, p.body(seq))
				lat = append(lat, time.Since(sent))
				switch {
				case err != nil:
					failed++
					stats["error"]++
					if firstErr == "" {
						firstErr = err.Error()
					}
				case status == http.StatusAccepted || status == http.StatusOK:
					// 200 is what an alertmanager-api source answers, as
					// Alertmanager's API does.
					ok++
					stats[fmt.Sprint(status)]++
				default:
					failed++
					stats[fmt.Sprint(status)]++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			rep.ok, rep.failed = rep.ok+ok, rep.failed+failed
			for k, v := range stats {
				rep.statuses[k] += v
			}
			if rep.firstError == "" {
				rep.firstError = firstErr
			}
			rep.latencies = append(rep.latencies, lat...)
		})
	}
	wg.Wait()
	rep.elapsed = time.Since(start)
	return rep
}

// post sends one body and drains the answer, so the connection is reused.
func post(ctx context.Context, client *http.Client, url, token, format string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if format != "pagerduty" && token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

func (r *report) print(w io.Writer, c config) {
	rate := "as fast as answered"
	if c.rate > 0 {
		rate = fmt.Sprintf("%g req/s scheduled", c.rate)
	}
	fmt.Fprintf(w, "format %s, batch %d, concurrency %d, %s\n", c.format, c.batch, c.concurrency, rate)
	secs := r.elapsed.Seconds()
	codes := make([]string, 0, len(r.statuses))
	for _, k := range slices.Sorted(maps.Keys(r.statuses)) {
		codes = append(codes, fmt.Sprintf("%s×%d", k, r.statuses[k]))
	}
	fmt.Fprintf(w, "requests  %d ok, %d failed in %.1f s (%.0f req/s) [%s]\n",
		r.ok, r.failed, secs, float64(r.ok+r.failed)/secs, strings.Join(codes, " "))
	if r.firstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.firstError)
	}
	fmt.Fprintf(w, "accepted  %d alerts, %.0f alerts/s\n", r.ok*int64(c.batch), float64(r.ok*int64(c.batch))/secs)
	if len(r.latencies) == 0 {
		return
	}
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(w, "latency   p50 %s  p90 %s  p99 %s  max %s\n", ms(pct(.50)), ms(pct(.90)), ms(pct(.99)), ms(r.latencies[len(r.latencies)-1]))
}
