package templates_test

import (
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/templates"
)

// FuzzRender renders an update whose name and body are arbitrary text:
// rendering never fails, the subject stays one line, and no tag a person
// wrote reaches the HTML or the Slack text unescaped.
func FuzzRender(f *testing.F) {
	f.Add("DNS outage", "We are investigating.\nNext update at 10:50.")
	f.Add("<script>alert(1)</script>", "<img src=x onerror=alert(1)>\r\n\r\n</p><p>")
	f.Add("a\r\nBcc: eve@example.net", "{{.Page.Name}} <!channel> & <https://evil.example|x>")
	s := mustLoad(f, "")
	base, err := templates.Sample(gateway.EventIncidentUpdated)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, body string) {
		data := base
		in, up := *base.Incident, *base.Update
		in.Name, up.Body = name, "<x-fuzz "+body
		data.Incident, data.Update = &in, &up
		subject, _, html, err := s.RenderEmail(string(gateway.EventIncidentUpdated), data)
		if err != nil {
			t.Fatalf("RenderEmail: %v", err)
		}
		if strings.ContainsAny(subject, "\r\n") {
			t.Fatalf("subject %q has a line break", subject)
		}
		if strings.Contains(html, "<x-fuzz") {
			t.Fatalf("html carries the author's tag unescaped")
		}
		slack, err := s.RenderSlack(string(gateway.EventIncidentUpdated), data)
		if err != nil {
			t.Fatalf("RenderSlack: %v", err)
		}
		if strings.Contains(slack, "<x-fuzz") {
			t.Fatalf("slack text carries the author's tag unescaped")
		}
	})
}
