package gateway

import "testing"

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		`Post "https://hooks.slack.com/services/T0/B0/XyZsecret": dial tcp: i/o timeout`: `Post "https://hooks.slack.com/…": dial tcp: i/o timeout`,
		`redirect to "https://u:pw@example.com:8443/x?token=abc" not followed`:           `redirect to "https://example.com:8443/…" not followed`,
		`https://example.com/`:      `https://example.com`,
		`503 Service Unavailable`:   `503 Service Unavailable`,
		`see http://a.test?key=k1.`: `see http://a.test/…`,
	} {
		if got := RedactURLs(in); got != want {
			t.Errorf("RedactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}
