package main

// The pages mode loads Herald's read side (the status page, summary.json)
// with GETs and, with -ceiling, the same paths on a trivial in-process
// server that answers with the bytes Herald served, so that a figure reads
// as "N % of a static server on the same machine":
//
//	herald-load pages -url http://127.0.0.1:8080 -path / -path /api/v2/summary.json \
//	    -concurrency 32 -duration 15s -ceiling
//
// On a shared machine the load generator competes with the server for the
// same cores; the ceiling, loaded by the same workers in the same run, is
// what that costs, so the ratio holds up better than the raw figure.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// pathList collects a repeated flag (-path, -header).
type pathList []string

func (l *pathList) String() string     { return strings.Join(*l, ", ") }
func (l *pathList) Set(v string) error { *l = append(*l, v); return nil }

type pagesConfig struct {
	url         string
	paths       pathList
	headers     http.Header
	concurrency int
	duration    time.Duration
	ceiling     bool
	rounds      int
}

// pagesMain runs the pages mode and returns the process's exit code.
func pagesMain(args []string) int {
	fs := flag.NewFlagSet("herald-load pages", flag.ContinueOnError)
	var c pagesConfig
	var headers pathList
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "Herald's base URL")
	fs.Var(&c.paths, "path", "path to GET (repeat; default / and /api/v2/summary.json)")
	fs.Var(&headers, "header", `request header "Name: value" (repeat), e.g. "Accept-Encoding: gzip"; none by default, like wrk`)
	fs.IntVar(&c.concurrency, "concurrency", 32, "requests in flight at once (one keep-alive connection each)")
	fs.DurationVar(&c.duration, "duration", 15*time.Second, "how long to load each path (per round, per target)")
	fs.BoolVar(&c.ceiling, "ceiling", false, "also load an in-process static server that serves the same bytes, and print the ratio")
	fs.IntVar(&c.rounds, "rounds", 1, "alternate Herald and the ceiling this many times per path, to even out a noisy machine")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(c.paths) == 0 {
		c.paths = pathList{"/", "/api/v2/summary.json"}
	}
	c.headers = http.Header{}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			fmt.Fprintf(os.Stderr, "herald-load pages: -header %q: want \"Name: value\"\n", h)
			return 2
		}
		c.headers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if c.concurrency < 1 || c.duration <= 0 || c.rounds < 1 {
		fmt.Fprintln(os.Stderr, "herald-load pages: -concurrency and -rounds must be at least 1, -duration positive")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := runPages(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "herald-load pages:", err)
		return 1
	}
	return 0
}

// runPages loads each path in turn: Herald, then (with -ceiling) the
// static copy, -rounds times, and prints one line per load and the ratio.
func runPages(ctx context.Context, c pagesConfig, w io.Writer) error {
	base := strings.TrimRight(c.url, "/")
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: c.concurrency, MaxIdleConnsPerHost: c.concurrency, IdleConnTimeout: time.Minute,
		// Compression is asked for with -header, never added behind the
		// caller's back, and the body is counted as it came on the wire.
		DisableCompression: true}}
	defer client.CloseIdleConnections()

	var static *staticServer
	if c.ceiling {
		var err error
		if static, err = newStaticServer(ctx, client, base, c.paths, c.headers); err != nil {
			return err
		}
		defer static.close()
	}
	fmt.Fprintf(w, "GET, concurrency %d, %s per load, %d round(s), headers %v\n", c.concurrency, c.duration, c.rounds, c.headers)
	for _, path := range c.paths {
		var herald, ceiling pageLoad
		for range c.rounds {
			r := loadPath(ctx, client, base+path, c)
			r.print(w, "herald ", path)
			herald.add(r)
			if static != nil {
				r := loadPath(ctx, client, static.url+path, c)
				r.print(w, "ceiling", path)
				ceiling.add(r)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if herald.ok == 0 {
			return fmt.Errorf("%s: no 200 answers (%s)", path, herald.firstError)
		}
		if static != nil && ceiling.rate() > 0 {
			fmt.Fprintf(w, "%-24s herald %.0f req/s, ceiling %.0f req/s: %.0f %% of a static server\n",
				path, herald.rate(), ceiling.rate(), 100*herald.rate()/ceiling.rate())
		}
	}
	return nil
}

// pageLoad is what the workers of one or more loads of one path observed.
type pageLoad struct {
	ok, failed int64
	bytes      int64
	firstError string
	latencies  []time.Duration
	elapsed    time.Duration
}

func (p *pageLoad) add(o *pageLoad) {
	p.ok, p.failed, p.bytes, p.elapsed = p.ok+o.ok, p.failed+o.failed, p.bytes+o.bytes, p.elapsed+o.elapsed
	p.latencies = append(p.latencies, o.latencies...)
	if p.firstError == "" {
		p.firstError = o.firstError
	}
}

// rate counts only 200s: an error page served fast is not a status page.
func (p *pageLoad) rate() float64 {
	if p.elapsed <= 0 {
		return 0
	}
	return float64(p.ok) / p.elapsed.Seconds()
}

// loadPath GETs one URL from -concurrency workers for -duration.
func loadPath(ctx context.Context, client *http.Client, url string, c pagesConfig) *pageLoad {
	var mu sync.Mutex
	var stopped atomic.Bool
	rep := &pageLoad{}
	start := time.Now()
	timer := time.AfterFunc(c.duration, func() { stopped.Store(true) })
	defer timer.Stop()
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Go(func() {
			var mine pageLoad
			for !stopped.Load() && ctx.Err() == nil {
				t := time.Now()
				n, status, err := get(ctx, client, url, c.headers)
				mine.latencies = append(mine.latencies, time.Since(t))
				mine.bytes += n
				switch {
				case err == nil && status == http.StatusOK:
					mine.ok++
					continue
				case err != nil && (errors.Is(err, context.Canceled) || ctx.Err() != nil):
					continue
				case err == nil:
					err = fmt.Errorf("status %d", status)
				}
				mine.failed++
				if mine.firstError == "" {
					mine.firstError = err.Error()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			rep.add(&mine)
		})
	}
	wg.Wait()
	rep.elapsed = time.Since(start)
	return rep
}

// get sends one GET and reads the whole answer, so that the connection is
// reused and the server's time to write the body counts.
func get(ctx context.Context, client *http.Client, url string, h http.Header) (int64, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header = h.Clone()
	res, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	return n, res.StatusCode, err
}

func (p *pageLoad) print(w io.Writer, target, path string) {
	secs := p.elapsed.Seconds()
	fmt.Fprintf(w, "%s %-24s %7d ok %5d failed in %.1f s  %7.0f req/s  %6.1f MB/s",
		target, path, p.ok, p.failed, secs, p.rate(), float64(p.bytes)/secs/1e6)
	if len(p.latencies) > 0 {
		slices.Sort(p.latencies)
		pct := func(q float64) string {
			d := p.latencies[min(len(p.latencies)-1, int(q*float64(len(p.latencies))))]
			return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
		}
		fmt.Fprintf(w, "  p50 %s p90 %s p99 %s", pct(.50), pct(.90), pct(.99))
	}
	fmt.Fprintln(w)
	if p.firstError != "" {
		fmt.Fprintf(w, "        first error: %s\n", p.firstError)
	}
}

// staticServer serves, from memory, the answer Herald gave to one GET of
// each path: the same status, body bytes and content headers. It is the
// fastest any server could answer these requests over this loopback with
// this client, which makes it the ceiling.
type staticServer struct {
	url string
	srv *http.Server
}

// copiedHeaders are the answer's headers the static server repeats; Date,
// Content-Length and connection handling are net/http's, as they are for
// Herald's server.
var copiedHeaders = []string{"Content-Type", "Content-Encoding", "Cache-Control", "ETag", "Last-Modified", "Vary",
	"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"}

func newStaticServer(ctx context.Context, client *http.Client, base string, paths []string, h http.Header) (*staticServer, error) {
	type page struct {
		status int
		header http.Header
		body   []byte
	}
	pages := map[string]page{}
	for _, path := range paths {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil, err
		}
		req.Header = h.Clone()
		res, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch %s for the ceiling: %w", path, err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("fetch %s for the ceiling: %w", path, err)
		}
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetch %s for the ceiling: status %d", path, res.StatusCode)
		}
		p := page{status: res.StatusCode, header: http.Header{}, body: body}
		for _, k := range copiedHeaders {
			if v := res.Header.Values(k); len(v) > 0 {
				p.header[k] = v
			}
		}
		pages[path] = p
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		for k, v := range p.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
		w.WriteHeader(p.status)
		_, _ = w.Write(p.body)
	})}
	go func() { _ = srv.Serve(ln) }()
	return &staticServer{url: "http://" + ln.Addr().String(), srv: srv}, nil
}

func (s *staticServer) close() { _ = s.srv.Close() }
