package http_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// realServer serves srv through its own HTTPServer (the timeouts and
// header limit under test), not httptest's, on a loopback port.
func realServer(t *testing.T, srv *herhttp.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer(ln.Addr().String())
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// dribble writes first, then one more piece every 50 ms, for at most
// bound, and reports whether the server closed the connection by then
// (a failed write, or a read that ends). The server's timeouts are a
// fraction of bound, so only a server that never cuts the client reaches
// it: no test depends on how fast the machine is.
func dribble(t *testing.T, addr, first, piece string, bound time.Duration) bool {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // ends when the server closes
		close(closed)
	}()
	if _, err := io.WriteString(conn, first); err != nil {
		return true
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(bound)
	for {
		select {
		case <-closed:
			return true
		case <-deadline:
			return false
		case <-tick.C:
			if _, err := io.WriteString(conn, piece); err != nil {
				return true
			}
		}
	}
}

// TestSlowClientsAreCut: a client that sends its header a line at a time
// (slowloris) is cut at ReadHeaderTimeout, and one that dribbles a body is
// cut at ReadTimeout, on herald's own http.Server.
func TestSlowClientsAreCut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		_, token := e.source("am", "alertmanager", 0)
		srv := herhttp.New(herhttp.Options{Log: storetest.Logger(t),
			ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond})
		srv.Publish(herhttp.Services{Store: st})
		addr := realServer(t, srv)
		const bound = 20 * time.Second
		if !dribble(t, addr, "GET /healthz HTTP/1.1\r\nHost: herald\r\n", "X-Slow: 1\r\n", bound) {
			t.Errorf("a header sent a line every 50 ms was not cut within %v", bound)
		}
		body := "POST /ingest/am HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer " + token +
			"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
		if !dribble(t, addr, body, " ", bound) {
			t.Errorf("a body sent a byte every 50 ms was not cut within %v", bound)
		}
		if got := e.alerts("source=am"); len(got) != 0 {
			t.Errorf("a cut body stored %d alerts", len(got))
		}
		// A prompt client is served as usual.
		res, err := http.Get("http://" + addr + "/healthz")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET /healthz = %v, %v", res, err)
		}
		res.Body.Close()
	})
}

// TestOversizedHeaderIs431: a header past MaxHeaderBytes is refused with
// 431 before any handler runs.
func TestOversizedHeaderIs431(t *testing.T) {
	srv := herhttp.New(herhttp.Options{Log: storetest.Logger(t), MaxHeaderBytes: 4 << 10})
	addr := realServer(t, srv)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second)) // a bound, not a measure
	req := "GET /healthz HTTP/1.1\r\nHost: herald\r\nCookie: " + strings.Repeat("a", 64<<10) + "\r\n\r\n"
	go io.WriteString(conn, req) // the server may answer before reading it all
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status = %d, want 431", res.StatusCode)
	}
}

// sizedReader hides a body's length (chunked transfer encoding), so that
// only reading finds it too large.
type sizedReader struct{ io.Reader }

// TestOversizedBodiesAre413: a body past its limit is 413 whether its
// length is declared or it comes chunked, on the admin API (api_body) and
// on the public subscribe form and its JSON twin (public_body, 64 KiB),
// and nothing is stored. Ingest's own 413s, declared and chunked, are in
// TestIngestErrors.
func TestOversizedBodiesAre413(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := withSubscribers(t, newEnv(t, st, herhttp.Options{APIBodyLimit: 4 << 10}), st)
		pad := strings.Repeat("x", 80<<10) // past both limits
		apiBody := `{"name":"` + pad + `"}`
		jsonBody := `{"email":"big@example.com","components":["` + pad + `"]}`
		formBody := url.Values{"email": {"big@example.com"}, "scope": {"all"}, "website": {""}, "pad": {pad}}.Encode()
		for _, tt := range []struct {
			name, path, ct, body string
		}{
			{"api", "/api/v1/components", "application/json", apiBody},
			{"subscribe json", "/subscribe", "application/json", jsonBody},
			{"subscribe form", "/subscribe", "application/x-www-form-urlencoded", formBody},
		} {
			for _, hide := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tt.body)
				if hide {
					r = sizedReader{r}
				}
				req, _ := http.NewRequest("POST", e.url+tt.path, r)
				req.Header.Set("Content-Type", tt.ct)
				req.Header.Set("Authorization", "Bearer "+e.keys[gateway.RoleAdmin])
				req.Header.Set("Sec-Fetch-Site", "same-origin") // the form's CSRF check passes; the size is what is tested
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s (chunked %v): %v", tt.name, hide, err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusRequestEntityTooLarge {
					t.Errorf("%s (chunked %v) = %d %.200s, want 413", tt.name, hide, res.StatusCode, b)
				}
			}
		}
		if r := e.do("GET", "/api/v1/subscribers", gateway.RoleSupport, ""); !strings.Contains(r.body, `"data":[]`) {
			t.Errorf("an oversized subscription was stored: %s", r.body)
		}
		if r := e.do("GET", "/api/v1/components", gateway.RoleSupport, ""); strings.Contains(r.body, "xxxx") {
			t.Errorf("an oversized component was stored")
		}
	})
}

// TestPublicBodyLimitIsConfigured: limits.public_body, not a constant,
// bounds the subscribe form: with a 1 KiB limit a 4 KiB form (well under
// the 64 KiB default) is 413, declared or chunked, a small one still goes
// through, and the JSON twin's 413 is Herald's JSON error (too_large).
func TestPublicBodyLimitIsConfigured(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := withSubscribers(t, newEnv(t, st, herhttp.Options{PublicBodyLimit: 1 << 10}), st)
		post := func(body io.Reader) int {
			req, _ := http.NewRequest("POST", e.url+"/subscribe", body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin") // the form's CSRF check passes; the size is what is tested
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res.StatusCode
		}
		big := url.Values{"email": {"big@example.com"}, "scope": {"all"}, "website": {""}, "pad": {strings.Repeat("x", 4<<10)}}.Encode()
		if got := post(strings.NewReader(big)); got != http.StatusRequestEntityTooLarge {
			t.Errorf("4 KiB form over a 1 KiB limit = %d, want 413", got)
		}
		if got := post(sizedReader{strings.NewReader(big)}); got != http.StatusRequestEntityTooLarge {
			t.Errorf("4 KiB chunked form over a 1 KiB limit = %d, want 413", got)
		}
		small := url.Values{"email": {"small@example.com"}, "scope": {"all"}, "website": {""}}.Encode()
		if got := post(strings.NewReader(small)); got == http.StatusRequestEntityTooLarge || got >= 500 {
			t.Errorf("a small form under the limit = %d, want it taken", got)
		}
		// The JSON twin answers in Herald's usual error shape.
		req, _ := http.NewRequest("POST", e.url+"/subscribe", strings.NewReader(`{"email":"big@example.com","components":["`+strings.Repeat("x", 4<<10)+`"]}`))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"too_large"`) {
			t.Errorf("4 KiB JSON over a 1 KiB limit = %d %s, want 413 too_large", res.StatusCode, b)
		}
	})
}
