package probes

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/heraldstatus/herald/gateway"
)

// bodyLimit bounds how much of a response body_contains looks at.
const bodyLimit = 1 << 20

// checkHTTP requests the probe's URL. The request goes where the admin
// said, private addresses included: probes are admin-configured, unlike
// subscribers' webhooks, so the webhook address guard does not apply.
// Each run has its own connection, so that a run measures a whole
// request (DNS, connect, TLS) as a client would see it.
func (r *Runner) checkHTTP(ctx context.Context, p *gateway.Probe) Outcome {
	var tc *tls.Config
	if r.o.TLS != nil {
		tc = r.o.TLS.Clone()
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true,
		Proxy: http.ProxyFromEnvironment}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Target, nil)
	if err != nil {
		return Outcome{ProbeResult: gateway.ProbeResult{Message: err.Error()}}
	}
	req.Header.Set("User-Agent", "Herald-Probe/1")
	resp, err := client.Do(req)
	if err != nil {
		return Outcome{ProbeResult: gateway.ProbeResult{Message: "GET " + p.Target + ": " + failure(ctx, err)}}
	}
	defer resp.Body.Close()
	var out Outcome
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		out.TLSExpiry = resp.TLS.PeerCertificates[0].NotAfter
	}
	wantOK := resp.StatusCode >= 200 && resp.StatusCode < 300
	want := "2xx"
	if p.ExpectStatus != 0 {
		wantOK, want = resp.StatusCode == p.ExpectStatus, fmt.Sprint(p.ExpectStatus)
	}
	if !wantOK {
		out.Message = fmt.Sprintf("GET %s: status %d (want %s)", p.Target, resp.StatusCode, want)
		return out
	}
	if p.BodyContains != "" {
		body, err := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
		if err != nil {
			out.Message = "GET " + p.Target + ": reading the body: " + failure(ctx, err)
			return out
		}
		if !strings.Contains(string(body), p.BodyContains) {
			out.Message = fmt.Sprintf("GET %s: status %d but the body does not contain %q", p.Target, resp.StatusCode, p.BodyContains)
			return out
		}
	}
	out.OK, out.Message = true, fmt.Sprintf("GET %s: status %d", p.Target, resp.StatusCode)
	return out
}
