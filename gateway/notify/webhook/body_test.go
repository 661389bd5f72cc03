package webhook_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/notify/webhook/webhooktest"
	"github.com/heraldstatus/herald/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the bodies built")

func body(t *testing.T, et gateway.EventType, format gateway.WebhookFormat) []byte {
	t.Helper()
	b, err := newNotifier(t, webhook.Options{}).Body(message(t, et, format, "https://hooks.example.com/h", 77), now)
	if err != nil {
		t.Fatalf("Body(%s, %s): %v", et, format, err)
	}
	if !json.Valid(b) {
		t.Fatalf("Body(%s, %s) is not JSON", et, format)
	}
	return b
}

// TestGolden builds every format of every event type from the sample
// events and compares them with testdata/<format>/<event>.golden.json.
func TestGolden(t *testing.T) {
	for _, format := range []gateway.WebhookFormat{gateway.FormatStatuspage, gateway.FormatSlack, gateway.FormatGeneric} {
		for _, et := range templates.EventTypes() {
			t.Run(string(format)+"/"+string(et), func(t *testing.T) {
				var v any
				if err := json.Unmarshal(body(t, et, format), &v); err != nil {
					t.Fatal(err)
				}
				got, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, '\n')
				path := filepath.Join("testdata", string(format), string(et)+".golden.json")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test -update writes it)", err)
				}
				if string(got) != string(want) {
					t.Errorf("%s differs (go test -update rewrites it):\n%s", path, got)
				}
			})
		}
	}
}

// TestStatuspageShape: the statuspage body of every event type has every
// key path of Statuspage's captured webhooks with the same JSON type
// (incident bodies for incident, maintenance and notice events, component
// bodies for component.status_changed), and a Statuspage consumer's reads
// succeed on it. Incident and component bodies have no key the captures
// lack; notice bodies add their documented notice object.
func TestStatuspageShape(t *testing.T) {
	for _, et := range templates.EventTypes() {
		t.Run(string(et), func(t *testing.T) {
			checkStatuspage(t, et, body(t, et, gateway.FormatStatuspage))
		})
	}
}

// TestStatuspageOfEarlierEvents: events written before Herald captured the
// page's status, the components and the timeline (stored ones, sent after
// an upgrade) still make bodies of Statuspage's shape that a consumer
// reads: the newest update, or the incident itself, as incident_updates[0].
func TestStatuspageOfEarlierEvents(t *testing.T) {
	n := newNotifier(t, webhook.Options{})
	for _, et := range templates.EventTypes() {
		if et == gateway.EventBroadcast || et == gateway.EventSubscriberConfirm || et == gateway.EventTest {
			continue // notices: earlier versions sent no incident for them at all
		}
		t.Run(string(et), func(t *testing.T) {
			m := message(t, et, gateway.FormatStatuspage, "https://hooks.example.com/h", 5)
			p := &m.Event.Payload
			p.PageStatus, p.Affected = nil, nil
			if p.Incident != nil {
				p.Incident.Updates = nil
			}
			b, err := n.Body(m, now)
			if err != nil {
				t.Fatal(err)
			}
			checkStatuspage(t, et, b)
		})
	}
}

// checkStatuspage holds a statuspage body of an event of type et to the
// captures and replays a consumer's reads on it.
func checkStatuspage(t *testing.T, et gateway.EventType, b []byte) {
	t.Helper()
	kind, notice := webhooktest.KindIncident, false
	switch et {
	case gateway.EventComponentStatus:
		kind = webhooktest.KindComponent
	case gateway.EventBroadcast, gateway.EventSubscriberConfirm, gateway.EventTest:
		notice = true
	}
	shape, err := webhooktest.Captures(kind)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range shape.Compare(b, notice) {
		t.Errorf("%s: %s", et, problem)
	}
	if err := webhooktest.ConsumerReads(b); err != nil {
		t.Errorf("%s: a Statuspage consumer fails: %v\n%s", et, err, b)
	}
	if notice {
		var v struct {
			Notice map[string]any
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if keys := sortedKeys(v.Notice); !slices.Equal(keys, []string{"body", "confirm_url", "subject", "type"}) || v.Notice["type"] != string(et) {
			t.Errorf("%s: notice %v", et, v.Notice)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestStatuspageValues spot-checks what the fields say.
func TestStatuspageValues(t *testing.T) {
	var created struct {
		Meta struct{ Unsubscribe, Documentation string }
		Page struct {
			ID              string
			StatusIndicator string `json:"status_indicator"`
		}
		Incident struct {
			ID, Status, Impact, Shortlink string
			Updates                       []struct {
				Status, Body string
				Affected     []struct {
					Code, Name string
					OldStatus  string `json:"old_status"`
					NewStatus  string `json:"new_status"`
				} `json:"affected_components"`
			} `json:"incident_updates"`
			Components []struct{ ID, Status string }
		}
	}
	if err := json.Unmarshal(body(t, gateway.EventIncidentCreated, gateway.FormatStatuspage), &created); err != nil {
		t.Fatal(err)
	}
	in := created.Incident
	if created.Meta.Unsubscribe != "https://status.example.com/unsubscribe/tok-hook" || created.Page.ID != gateway.PageID("https://status.example.com") ||
		created.Page.StatusIndicator != "critical" || in.Status != "investigating" || in.Impact != "critical" ||
		len(in.Updates) != 1 || len(in.Updates[0].Affected) != 11 || in.Updates[0].Affected[0].NewStatus != "major_outage" ||
		len(in.Components) != 11 ||
		!strings.HasPrefix(in.Shortlink, "https://status.example.com/incidents/") {
		t.Errorf("incident.created body: %+v", created)
	}
	var comp struct {
		Component       struct{ ID, Status, Name string }
		ComponentUpdate struct {
			OldStatus     string `json:"old_status"`
			NewStatus     string `json:"new_status"`
			ComponentID   string `json:"component_id"`
			ComponentType string `json:"component_type"`
		} `json:"component_update"`
	}
	if err := json.Unmarshal(body(t, gateway.EventComponentStatus, gateway.FormatStatuspage), &comp); err != nil {
		t.Fatal(err)
	}
	if comp.Component.Name != "Hummingbird App" || comp.Component.Status != "operational" ||
		comp.ComponentUpdate.OldStatus != "major_outage" || comp.ComponentUpdate.ComponentID != comp.Component.ID ||
		comp.ComponentUpdate.ComponentType != "Component" {
		t.Errorf("component.status_changed body: %+v", comp)
	}
}

// spBody is what the value tests read of statuspage bodies.
type spBody struct {
	Meta struct{ Documentation string }
	Page struct {
		ID                string
		StatusIndicator   string `json:"status_indicator"`
		StatusDescription string `json:"status_description"`
	}
	Incident struct {
		ID, Name, Status string
		PageID           string `json:"page_id"`
		Updates          []struct {
			ID, Status, Body string
			Affected         []map[string]any `json:"affected_components"`
		} `json:"incident_updates"`
		Components []struct {
			ID, Status, Name string
			CreatedAt        string  `json:"created_at"`
			Position         int     `json:"position"`
			GroupID          *string `json:"group_id"`
			PageID           string  `json:"page_id"`
		}
	}
	Notice struct {
		Type, Subject, Body string
		ConfirmURL          *string `json:"confirm_url"`
	}
}

func spOf(t *testing.T, et gateway.EventType) spBody {
	t.Helper()
	var b spBody
	if err := json.Unmarshal(body(t, et, gateway.FormatStatuspage), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStatuspageHistory: every incident body carries the whole timeline,
// newest first, the postmortem's included (a consumer reads
// incident_updates[0]).
func TestStatuspageHistory(t *testing.T) {
	for et, want := range map[gateway.EventType][]string{
		gateway.EventIncidentCreated:      {"investigating"},
		gateway.EventIncidentUpdated:      {"identified", "investigating"},
		gateway.EventIncidentResolved:     {"resolved", "identified", "identified", "investigating"},
		gateway.EventIncidentPostmortem:   {"resolved", "identified", "identified", "investigating"},
		gateway.EventMaintenanceCompleted: {"completed", "in_progress", "scheduled"},
	} {
		b := spOf(t, et)
		var got []string
		for _, u := range b.Incident.Updates {
			got = append(got, u.Status)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: incident_updates statuses %v, want %v", et, got, want)
		}
	}
}

// TestStatuspageComponentsAndPage: incident.components lists every
// affected component (also when the update changed none) with its real
// group, position and creation time; page.status_* is the page's status;
// page.id and page_id are the one page id.
func TestStatuspageComponentsAndPage(t *testing.T) {
	pageID := gateway.PageID("https://status.example.com")
	for _, tt := range []struct {
		et             gateway.EventType
		comps          int
		indicator, say string
	}{
		{gateway.EventIncidentCreated, 11, "critical", "Major System Outage"},
		{gateway.EventIncidentUpdated, 11, "critical", "Major System Outage"},
		{gateway.EventIncidentResolved, 11, "none", "All Systems Operational"},
		{gateway.EventIncidentPostmortem, 11, "none", "All Systems Operational"},
		{gateway.EventMaintenanceStarted, 10, "maintenance", "Service Under Maintenance"},
		{gateway.EventBroadcast, 11, "none", "All Systems Operational"},
	} {
		b := spOf(t, tt.et)
		if b.Page.ID != pageID || b.Incident.PageID != pageID || b.Page.StatusIndicator != tt.indicator || b.Page.StatusDescription != tt.say {
			t.Errorf("%s: page %+v, incident.page_id %q; want %s %s %q", tt.et, b.Page, b.Incident.PageID, pageID, tt.indicator, tt.say)
		}
		if len(b.Incident.Components) != tt.comps {
			t.Fatalf("%s: %d components, want %d", tt.et, len(b.Incident.Components), tt.comps)
		}
		positions := map[int]bool{}
		for _, c := range b.Incident.Components {
			positions[c.Position] = true
			if c.GroupID == nil || *c.GroupID == "" || c.CreatedAt != "2021-09-01T09:00:00.000Z" || c.PageID != pageID {
				t.Errorf("%s: component %+v", tt.et, c)
			}
		}
		if len(positions) < 10 || positions[0] {
			t.Errorf("%s: positions %v, want them from 1 as the page orders them", tt.et, positions)
		}
	}
}

// TestStatuspageNotices: a broadcast, a confirmation and a test carry their
// words both where a Statuspage consumer reads (incident name and
// incident_updates[0].body) and in the notice object.
func TestStatuspageNotices(t *testing.T) {
	for _, tt := range []struct {
		et            gateway.EventType
		subject, body string
		confirm       bool
	}{
		{gateway.EventBroadcast, "Root Cause Analysis of the September 16 outage", "The Root Cause Analysis of the September 16 outage is now published", false},
		{gateway.EventSubscriberConfirm, "Confirm your subscription to Eptura Workplace status updates", "https://status.example.com/subscribe/confirm/sample-token", true},
		{gateway.EventTest, "Test notification", "This is a test notification from Eptura Workplace.", false},
	} {
		b := spOf(t, tt.et)
		n := b.Notice
		if n.Type != string(tt.et) || n.Subject != tt.subject || !strings.Contains(n.Body, tt.body) || (n.ConfirmURL != nil) != tt.confirm {
			t.Errorf("%s: notice %+v", tt.et, n)
		}
		if b.Incident.Name != n.Subject || b.Incident.Status != "resolved" || len(b.Incident.Updates) != 1 || b.Incident.Updates[0].Body != n.Body {
			t.Errorf("%s: incident %+v", tt.et, b.Incident)
		}
	}
}

// TestDocumentationAnchor: meta.documentation points at a heading that
// docs/webhooks.md has.
func TestDocumentationAnchor(t *testing.T) {
	doc, anchor, ok := strings.Cut(spOf(t, gateway.EventIncidentCreated).Meta.Documentation, "#")
	if !ok || !strings.HasSuffix(doc, "/docs/webhooks.md") {
		t.Fatalf("meta.documentation %q is no anchor of docs/webhooks.md", doc)
	}
	md, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	var anchors []string
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "#") {
			anchors = append(anchors, githubAnchor(strings.TrimLeft(line, "# ")))
		}
	}
	if !slices.Contains(anchors, anchor) {
		t.Errorf("docs/webhooks.md has no heading #%s (headings: %v)", anchor, anchors)
	}
}

// githubAnchor is the anchor GitHub gives a Markdown heading.
func githubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestGenericGroup: the generic format names each component's group.
func TestGenericGroup(t *testing.T) {
	var g struct {
		Components []struct{ Name, Group string }
	}
	if err := json.Unmarshal(body(t, gateway.EventIncidentCreated, gateway.FormatGeneric), &g); err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Components {
		want := "Eptura Workplace Modules"
		if c.Name == "Hummingbird App" {
			want = "Apps"
		}
		if c.Group != want {
			t.Errorf("%s: group %q, want %q", c.Name, c.Group, want)
		}
	}
	if len(g.Components) != 11 {
		t.Errorf("%d components", len(g.Components))
	}
}

// TestGenericKeys: Herald's own format always has the same keys.
func TestGenericKeys(t *testing.T) {
	want := []string{"broadcast", "components", "created_at", "event_id", "incident", "manage_url", "page", "type", "unsubscribe_url", "update", "version"}
	for _, et := range templates.EventTypes() {
		var got map[string]any
		if err := json.Unmarshal(body(t, et, gateway.FormatGeneric), &got); err != nil {
			t.Fatal(err)
		}
		if keys := sortedKeys(got); !slices.Equal(keys, want) {
			t.Errorf("%s: keys %v, want %v", et, keys, want)
		}
		if got["version"] != "1" || got["type"] != string(et) {
			t.Errorf("%s: version %v type %v", et, got["version"], got["type"])
		}
		if _, ok := got["components"].([]any); !ok {
			t.Errorf("%s: components is %T, want an array", et, got["components"])
		}
	}
}

// TestSlackMessage: an incoming-webhook message with text and blocks, and
// text people wrote escaped.
func TestSlackMessage(t *testing.T) {
	n := newNotifier(t, webhook.Options{})
	m := message(t, gateway.EventBroadcast, gateway.FormatSlack, "https://hooks.slack.com/services/T/B/X", 1)
	m.Event.Payload.Broadcast.Body = "Hello <!channel> & <https://evil.example|click>"
	b, err := n.Body(m, now)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Text   string
		Blocks []struct {
			Type     string
			Text     *struct{ Type, Text string }
			Elements []struct{ Type, Text string }
		}
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Blocks) != 2 || msg.Blocks[0].Type != "section" || msg.Blocks[0].Text.Type != "mrkdwn" || msg.Blocks[1].Type != "context" {
		t.Fatalf("blocks: %s", b)
	}
	if strings.Contains(msg.Text, "<!channel>") || !strings.Contains(msg.Text, "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;") {
		t.Errorf("text not escaped: %q", msg.Text)
	}
	if !strings.Contains(msg.Blocks[1].Elements[0].Text, "<https://status.example.com/unsubscribe/tok-hook|Unsubscribe>") {
		t.Errorf("context: %+v", msg.Blocks[1])
	}
}
