package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// payload builds request bodies of one format. Alert ids are unique per run
// (or cycle through -keys), and fingerprints carry a per-run nonce, so that
// a run against a database that holds an earlier one inserts new alerts.
type payload struct {
	format string
	batch  int
	keys   int64  // 0: every alert new; else ids cycle through keys alerts
	nonce  string // per run
	token  string // PagerDuty's routing_key
}

// formats lists what -format takes and the path each posts to.
var formats = map[string]string{
	"alertmanager":     "/ingest/%s",
	"alertmanager-api": "/ingest/%s/api/v2/alerts",
	"grafana":          "/ingest/%s",
	"generic":          "/ingest/%s",
	"pagerduty":        "/v2/enqueue",
}

func (p *payload) id(seq int64, j int) int64 {
	id := seq*int64(p.batch) + int64(j)
	if p.keys > 0 {
		id %= p.keys
	}
	return id
}

// fingerprint is a hash, as Alertmanager's and Grafana's are: alerts land
// all over the unique index, as real ones do, not in order at its end.
func (p *payload) fingerprint(id int64) string {
	sum := sha256.Sum256([]byte(p.nonce + strconv.FormatInt(id, 16)))
	return hex.EncodeToString(sum[:8])
}

// body returns request seq's body.
func (p *payload) body(seq int64) []byte {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var b strings.Builder
	b.Grow(p.batch * 400)
	switch p.format {
	case "alertmanager":
		b.WriteString(`{"version":"4","status":"firing","receiver":"herald","groupKey":"{}:{alertname=\"LoadTest\"}",` +
			`"truncatedAlerts":0,"groupLabels":{"alertname":"LoadTest"},"commonLabels":{"alertname":"LoadTest","severity":"critical"},` +
			`"commonAnnotations":{},"externalURL":"http://alertmanager:9093","alerts":[`)
		p.each(&b, seq, func(id int64) string {
			return fmt.Sprintf(`{"status":"firing","labels":{"alertname":"LoadTest","instance":"host-%d:9100","job":"node","service":"load","severity":"critical"},`+
				`"annotations":{"summary":"load test alert %d on host-%d"},"startsAt":"%s","endsAt":"0001-01-01T00:00:00Z",`+
				`"generatorURL":"http://prometheus:9090/graph?g0.expr=up+%%3D%%3D+0","fingerprint":"%s"}`, id, id, id, now, p.fingerprint(id))
		})
		b.WriteString(`]}`)
	case "alertmanager-api":
		ends := time.Now().Add(4 * time.Minute).UTC().Format(time.RFC3339Nano)
		b.WriteString(`[`)
		p.each(&b, seq, func(id int64) string {
			return fmt.Sprintf(`{"labels":{"alertname":"LoadTest","instance":"host-%s:9100","job":"node","severity":"critical"},`+
				`"annotations":{"summary":"load test alert %d"},"startsAt":"%s","endsAt":"%s","generatorURL":"http://prometheus:9090/graph"}`,
				p.fingerprint(id), id, now, ends)
		})
		b.WriteString(`]`)
	case "grafana":
		b.WriteString(`{"receiver":"herald","status":"firing","orgId":1,"alerts":[`)
		p.each(&b, seq, func(id int64) string {
			return fmt.Sprintf(`{"status":"firing","labels":{"alertname":"LoadTest","instance":"host-%d","grafana_folder":"load"},`+
				`"annotations":{"summary":"load test alert %d"},"startsAt":"%s","endsAt":"0001-01-01T00:00:00Z",`+
				`"generatorURL":"https://grafana.example/alerting/grafana/x/view","fingerprint":"%s",`+
				`"silenceURL":"https://grafana.example/alerting/silence/new","dashboardURL":"","panelURL":"","values":{"A":1}}`,
				id, id, now, p.fingerprint(id))
		})
		b.WriteString(`],"groupLabels":{"alertname":"LoadTest"},"commonLabels":{"alertname":"LoadTest"},"commonAnnotations":{},` +
			`"externalURL":"https://grafana.example/","version":"1","groupKey":"{}:{alertname=\"LoadTest\"}","truncatedAlerts":0,` +
			`"title":"[FIRING] LoadTest","state":"alerting","message":"load test"}`)
	case "generic":
		b.WriteString(`{"alerts":[`)
		p.each(&b, seq, func(id int64) string {
			return fmt.Sprintf(`{"fingerprint":"%s","status":"firing","severity":"critical","summary":"load test alert %d",`+
				`"labels":{"service":"load","instance":"host-%d"},"starts_at":"%s"}`, p.fingerprint(id), id, id, now)
		})
		b.WriteString(`]}`)
	case "pagerduty":
		id := p.id(seq, 0)
		fmt.Fprintf(&b, `{"routing_key":%q,"event_action":"trigger","dedup_key":"%s","client":"herald-load",`+
			`"payload":{"summary":"load test alert %d","source":"host-%d","severity":"critical","component":"load"}}`,
			p.token, p.fingerprint(id), id, id)
	}
	return []byte(b.String())
}

// each writes the batch's alerts, comma-separated.
func (p *payload) each(b *strings.Builder, seq int64, alert func(id int64) string) {
	for j := range p.batch {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(alert(p.id(seq, j)))
	}
}
