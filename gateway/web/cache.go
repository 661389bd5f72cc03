package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway/store"
)

// resource is one cacheable public answer: a page, a feed or an API body.
type resource struct {
	// key names the variant (path and the parameters that matter).
	key   string
	ctype string
	// clock is set for bodies that change with time as well as with the
	// data (the uptime bars, the recent days the status page lists): they
	// are rendered as of the current minute.
	clock  bool
	render func(r *request) ([]byte, error)
}

// request is what a render needs: the store, the data version it renders
// and the time it renders at (the same the ETag was computed with).
type request struct {
	ctx     context.Context
	c       echo.Context
	st      *store.Store
	version store.PageVersion
	now     time.Time
}

// serve answers a GET or HEAD of res: 304 when the client's copy is
// current (If-None-Match, else If-Modified-Since), the cached body of this
// version when there is one, a fresh render otherwise.
func (h *Handler) serve(c echo.Context, res resource) error {
	st := h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	v, err := h.versions.get(ctx, st)
	if err != nil {
		return err
	}
	now := h.now()
	modified, bucket := v.UpdatedAt, ""
	if res.clock {
		// Rendered as of the minute: every replica renders the same bytes
		// for the same version and minute, so the ETag stays strong.
		now = now.Truncate(time.Minute)
		bucket = now.Format(time.RFC3339)
		if now.After(modified) {
			modified = now
		}
	}
	etag := entityTag(res.key, v.Stamp, bucket, h.opt.Page.Name, h.opt.Page.URL, assetVersion)
	// The gzip encoding is another representation, with its own tag; a
	// client holding either has a current copy.
	gz, gzTag := acceptsGzip(c.Request()), strings.TrimSuffix(etag, `"`)+`-gz"`
	hdr := c.Response().Header()
	hdr.Set("Vary", "Accept-Encoding")
	validators := func() { // on answers of this version only, never on errors
		hdr.Set("ETag", etag)
		if gz {
			hdr.Set("ETag", gzTag)
		}
		hdr.Set("Cache-Control", "no-cache")
		if !modified.IsZero() {
			hdr.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
		}
	}
	if notModified(c.Request(), modified, etag, gzTag) {
		validators()
		return c.NoContent(http.StatusNotModified)
	}
	body, ok := h.cache.get(res.key, etag)
	if !ok {
		// One render per version, however many requests ask at once (the
		// status page re-renders every minute, under load too).
		got, err, _ := h.renders.Do(res.key+" "+etag, func() (any, error) {
			if body, ok := h.cache.get(res.key, etag); ok {
				return body, nil
			}
			plain, err := res.render(&request{ctx: ctx, c: c, st: st, version: v, now: now})
			if err != nil {
				return nil, err
			}
			body := cachedBody{etag: etag, plain: plain, gzip: gzipped(plain)}
			h.cache.put(res.key, body)
			return body, nil
		})
		if err != nil {
			return err
		}
		body = got.(cachedBody)
	}
	validators()
	if gz {
		hdr.Set(echo.HeaderContentEncoding, "gzip")
		return c.Blob(http.StatusOK, res.ctype, body.gzip)
	}
	return c.Blob(http.StatusOK, res.ctype, body.plain)
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// gzipped compresses a body once, when it is rendered.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression) // a valid level: no error
	_, _ = zw.Write(b)                                          // into memory: no error
	_ = zw.Close()
	return buf.Bytes()
}

// entityTag hashes what a body depends on into a strong ETag: equal inputs
// render equal bytes.
func entityTag(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// notModified evaluates the conditional headers as RFC 9110 §13.2.2 says
// for GET and HEAD: If-None-Match (against any of the current tags) wins
// over If-Modified-Since.
func notModified(r *http.Request, modified time.Time, etags ...string) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || slices.Contains(etags, t) {
				return true
			}
		}
		return false
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || modified.IsZero() {
		return false
	}
	since, err := http.ParseTime(ims)
	return err == nil && !modified.Truncate(time.Second).After(since)
}

// bodyCache keeps the last rendered body of each variant, by its ETag. It
// is bounded: when full, it starts again empty.
type bodyCache struct {
	mu  sync.Mutex
	max int
	m   map[string]cachedBody
}

// cachedBody is a rendered body, plain and compressed.
type cachedBody struct {
	etag        string
	plain, gzip []byte
}

func newBodyCache(max int) *bodyCache {
	return &bodyCache{max: max, m: map[string]cachedBody{}}
}

func (b *bodyCache) get(key, etag string) (cachedBody, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[key]
	return e, ok && e.etag == etag
}

func (b *bodyCache) put(key string, body cachedBody) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[key]; !ok && len(b.m) >= b.max {
		clear(b.m)
	}
	b.m[key] = body
}

// versionMaxAge bounds how long a page version read from the database is
// trusted without reading it again: the most a page served by one replica
// lags behind a change made through another (or by a `herald` command
// run beside the server). Changes made through this process's store are
// seen at once (see versionCache).
const versionMaxAge = time.Second

// versionCache keeps the last page version read, so that a page served
// from the body cache costs no query at all: the version query (seven
// aggregates) cost more than everything else a cached answer does, and
// it capped the status page at about a quarter of a static server's rate.
//
// A remembered version is used while it is younger than maxAge and the
// store has committed no write since it was read (store.Writes): a change
// made through this process shows on the next request, one made elsewhere
// within maxAge.
type versionCache struct {
	maxAge time.Duration
	last   atomic.Pointer[seenVersion]
}

type seenVersion struct {
	st     *store.Store
	writes uint64    // st.Writes() before the read
	at     time.Time // when the read began (monotonic)
	v      store.PageVersion
}

func (vc *versionCache) get(ctx context.Context, st *store.Store) (store.PageVersion, error) {
	// The count is taken before the read: a write that commits during the
	// read makes the next request read again, whether or not this read
	// saw it.
	writes, at := st.Writes(), time.Now()
	if last := vc.last.Load(); last != nil && last.st == st && last.writes == writes && at.Sub(last.at) < vc.maxAge {
		return last.v, nil
	}
	v, err := st.PageVersion(ctx)
	if err != nil {
		return v, err
	}
	vc.last.Store(&seenVersion{st: st, writes: writes, at: at, v: v})
	return v, nil
}
