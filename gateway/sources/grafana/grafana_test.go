package grafana_test

import (
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/grafana"
	"github.com/heraldstatus/herald/gateway/sources/internal/sourcetest"
)

var decoder = grafana.Decoder{}

func TestDecode(t *testing.T) { sourcetest.Golden(t, decoder.Decode) }

func TestDecodeInvalid(t *testing.T) {
	sourcetest.RunInvalid(t, decoder.Decode, []sourcetest.Invalid{
		{Name: "malformed", Body: `{"receiver":"herald","alerts":[}`, Code: gateway.EINVALID, Message: "byte offset"},
		{Name: "legacy alerting body", Body: `{"dashboardId":1,"evalMatches":[{"value":1,"metric":"Count","tags":{}}],"ruleId":1,"ruleName":"Panel Title alert","ruleUrl":"http://grafana/d/x","state":"alerting","title":"[Alerting] Panel Title alert"}`, Code: gateway.EUNPROCESSABLE, Field: "alerts"},
		{Name: "bad status", Body: `{"alerts":[{"status":"alerting","labels":{"alertname":"A"}}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].status"},
		{Name: "no labels", Body: `{"alerts":[{"status":"firing","fingerprint":"0f3c9a1b2c3d4e5f"}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].labels"},
		{Name: "bad startsAt", Body: `{"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"1732410000"}]}`, Code: gateway.EUNPROCESSABLE, Field: "alerts[0].startsAt"},
	})
}

func FuzzDecode(f *testing.F) { sourcetest.Fuzz(f, decoder.Decode) }

func BenchmarkDecode(b *testing.B) { sourcetest.Bench(b, decoder.Decode, sourcetest.Largest(b)) }

func TestDecodeCompact(t *testing.T) {
	sourcetest.Compact(t, grafana.DecodeCompact, grafana.DecodePlain)
}

func FuzzDecodeCompact(f *testing.F) {
	sourcetest.FuzzCompact(f, grafana.DecodeCompact, grafana.DecodePlain,
		`{"title":"T","alerts":[{"status":"firing","labels":{"a":"1"}}]}`,
		`{"alerts":[{"status":"firing","labels":{"a":"1"}},{"status":"firing","labels":{"a":"2"}}],"title":"T"}`,
		`{"title":"T","alerts":[{"status":"firing","labels":{"a":"1"},"values":{"A":1}}],"title":"U"}`)
}
