package probes

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/heraldstatus/herald/gateway"
)

// systemResolvers reads the DNS servers of /etc/resolv.conf, the ones the
// system itself asks.
func systemResolvers() []string {
	cc, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(cc.Servers))
	for _, s := range cc.Servers {
		out = append(out, net.JoinHostPort(s, cc.Port))
	}
	return out
}

// checkDNS asks every resolver for the probe's record and fails when any
// of them fails, saying which and how: timeout, SERVFAIL, NXDOMAIN, no
// answer, or a wrong answer (when expect is set). Asking each resolver
// on its own (rather than the first that answers, as a stub resolver
// does) is the point: one resolver of several going bad is what leaves
// some nodes of a fleet unable to resolve.
func (r *Runner) checkDNS(ctx context.Context, p *gateway.Probe) Outcome {
	resolvers := p.Resolvers
	if len(resolvers) == 0 {
		resolvers = r.o.SystemResolvers
	}
	if len(resolvers) == 0 {
		return Outcome{ProbeResult: gateway.ProbeResult{Message: "no resolvers: none given and none in /etc/resolv.conf"}}
	}
	qtype := dns.StringToType[p.Record]
	type answer struct {
		problem string
		values  []string
	}
	answers := make([]answer, len(resolvers))
	done := make(chan struct{})
	for i, srv := range resolvers {
		go func() {
			defer func() { done <- struct{}{} }()
			vals, problem := query(ctx, srv, p.Target, qtype)
			if problem == "" && len(p.Expect) > 0 && !sameValues(vals, p.Expect) {
				problem = fmt.Sprintf("wrong answer %s (want %s)", show(vals), show(p.Expect))
			}
			answers[i] = answer{problem, vals}
		}()
	}
	for range resolvers {
		<-done
	}
	var bad, good []string
	for i, a := range answers {
		if a.problem != "" {
			bad = append(bad, resolvers[i]+" "+a.problem)
		} else {
			good = append(good, resolvers[i]+" "+show(a.values))
		}
	}
	what := p.Record + " " + p.Target
	if len(bad) > 0 {
		return Outcome{ProbeResult: gateway.ProbeResult{Message: fmt.Sprintf("%s: %d of %d resolvers fail: %s",
			what, len(bad), len(resolvers), strings.Join(bad, "; "))}}
	}
	return Outcome{ProbeResult: gateway.ProbeResult{OK: true, Message: what + ": " + strings.Join(good, "; ")}}
}

// query asks one server and returns the answer's values of type qtype, or
// what went wrong.
func query(ctx context.Context, server, name string, qtype uint16) ([]string, string) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: "udp"}
	in, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, m, server)
	}
	if err != nil {
		return nil, failure(ctx, err)
	}
	if in.Rcode != dns.RcodeSuccess {
		return nil, dns.RcodeToString[in.Rcode]
	}
	var vals []string
	for _, rr := range in.Answer {
		if rr.Header().Rrtype != qtype {
			continue // a CNAME on the way to an A record
		}
		switch v := rr.(type) {
		case *dns.A:
			vals = append(vals, v.A.String())
		case *dns.AAAA:
			vals = append(vals, v.AAAA.String())
		case *dns.CNAME:
			vals = append(vals, strings.TrimSuffix(v.Target, "."))
		case *dns.MX:
			vals = append(vals, strings.TrimSuffix(v.Mx, "."))
		case *dns.TXT:
			vals = append(vals, strings.Join(v.Txt, ""))
		}
	}
	if len(vals) == 0 {
		return nil, "no " + dns.TypeToString[qtype] + " answer"
	}
	return vals, ""
}

// sameValues compares answers as sets: resolvers rotate record order, and
// names compare without case and trailing dot.
func sameValues(got, want []string) bool {
	norm := func(vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			if ip := net.ParseIP(v); ip != nil {
				v = ip.String()
			}
			out[i] = strings.ToLower(strings.TrimSuffix(v, "."))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(got), norm(want))
}

func show(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
