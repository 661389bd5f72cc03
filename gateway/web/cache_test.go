package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestConditionalRequestsAnswer304(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		inc := e.seedOutage()
		paths := []string{"/", "/incidents/" + inc.ID, "/history", "/history.atom", "/history.rss",
			"/api/v2/summary.json", "/api/v2/incidents.json"}
		etags := map[string]string{}
		for _, p := range paths {
			res, body := e.get(p)
			etag, lm := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
			if res.StatusCode != http.StatusOK || etag == "" || lm == "" || res.Header.Get("Cache-Control") != "no-cache" {
				t.Fatalf("GET %s = %d, ETag %q, Last-Modified %q, Cache-Control %q", p, res.StatusCode, etag, lm, res.Header.Get("Cache-Control"))
			}
			etags[p] = etag
			for _, h := range [][]string{{"If-None-Match", etag}, {"If-None-Match", `"other", W/` + etag}, {"If-Modified-Since", lm}} {
				res, got := e.get(p, h...)
				if res.StatusCode != http.StatusNotModified || got != "" || res.Header.Get("ETag") != etag {
					t.Errorf("GET %s with %s: %d (%d bytes), want 304 with the ETag", p, h[0], res.StatusCode, len(got))
				}
			}
			if res, _ := e.get(p, "If-None-Match", `"stale"`, "If-Modified-Since", lm); res.StatusCode != http.StatusOK {
				t.Errorf("GET %s with a stale ETag = %d; If-None-Match wins over If-Modified-Since", p, res.StatusCode)
			}
			if res, again := e.get(p); again != body || res.Header.Get("ETag") != etag {
				t.Errorf("GET %s twice gave different bodies or ETags", p)
			}
		}

		// Time alone moves the status page (its uptime bars), not the rest.
		e.advance(time.Minute)
		for _, p := range paths {
			res, _ := e.get(p, "If-None-Match", etags[p])
			if want := map[bool]int{true: http.StatusOK, false: http.StatusNotModified}[p == "/"]; res.StatusCode != want {
				t.Errorf("a minute later, GET %s = %d, want %d", p, res.StatusCode, want)
			}
		}

		// An update changes every page that shows it.
		e.update(inc.ID, gateway.Monitoring, "A fix is in place.")
		for _, p := range paths {
			if res, _ := e.get(p, "If-None-Match", etags[p]); res.StatusCode != http.StatusOK || res.Header.Get("ETag") == etags[p] {
				t.Errorf("after an update, GET %s = %d with ETag %q, want 200 and a new ETag", p, res.StatusCode, res.Header.Get("ETag"))
			}
		}

		req, _ := http.NewRequest(http.MethodHead, e.srv.URL+"/api/v2/status.json", nil)
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("ETag") == "" {
			t.Errorf("HEAD = %d, ETag %q", res.StatusCode, res.Header.Get("ETag"))
		}
	})
}

func TestBodiesAreGzippedForClientsThatAsk(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	e.seedOutage()
	for _, p := range []string{"/", "/api/v2/summary.json", "/history.atom"} {
		plainRes, plain := e.get(p, "Accept-Encoding", "identity")
		res, zipped := e.get(p, "Accept-Encoding", "br;q=1.0, gzip;q=0.8")
		if res.Header.Get("Content-Encoding") != "gzip" || plainRes.Header.Get("Content-Encoding") != "" ||
			!strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("GET %s: encodings %q and %q, Vary %q", p, res.Header.Get("Content-Encoding"),
				plainRes.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
		}
		zr, err := gzip.NewReader(strings.NewReader(zipped))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || string(unzipped) != plain || len(zipped) >= len(plain) {
			t.Errorf("GET %s: gzip of %d bytes is not the %d-byte body (%v)", p, len(zipped), len(plain), err)
		}
		tag, plainTag := res.Header.Get("ETag"), plainRes.Header.Get("ETag")
		if tag == plainTag {
			t.Errorf("GET %s: both encodings have ETag %s", p, tag)
		}
		if r, _ := e.get(p, "Accept-Encoding", "gzip", "If-None-Match", plainTag); r.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s revalidating with the other encoding's tag = %d, want 304", p, r.StatusCode)
		}
		if r, _ := e.get(p, "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s with gzip;q=0 was gzipped", p)
		}
	}
}

func TestAssetsAreCachedForAYear(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	res, body := e.get("/assets/style.css")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/css; charset=utf-8" ||
		res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || len(body) < 1000 {
		t.Fatalf("style.css: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	if res, _ := e.get("/assets/style.css", "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidated style.css = %d, want 304", res.StatusCode)
	}
	if res, _ := e.get("/assets/nope.css"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset = %d, want 404", res.StatusCode)
	}
}
