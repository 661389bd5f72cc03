package webhook_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
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

// TestStatuspageShape: the statuspage bodies carry every field of
// Statuspage's own webhooks with the same name and JSON type, and no other.
func TestStatuspageShape(t *testing.T) {
	for sample, types := range map[string][]gateway.EventType{
		"webhook-incident.json": {gateway.EventIncidentCreated, gateway.EventIncidentUpdated, gateway.EventIncidentResolved,
			gateway.EventIncidentPostmortem, gateway.EventMaintenanceScheduled, gateway.EventMaintenanceStarted, gateway.EventMaintenanceCompleted},
		"webhook-component.json": {gateway.EventComponentStatus},
	} {
		raw, err := os.ReadFile(filepath.Join("testdata", "samples", sample))
		if err != nil {
			t.Fatal(err)
		}
		var want any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		for _, et := range types {
			var got any
			if err := json.Unmarshal(body(t, et, gateway.FormatStatuspage), &got); err != nil {
				t.Fatal(err)
			}
			for _, problem := range sameShape("$", want, got) {
				t.Errorf("%s vs %s: %s", et, sample, problem)
			}
		}
	}
}

// nullable are the sample's strings that Statuspage itself sends as null
// until they happen: an incident that never was in monitoring has no
// monitoring_at.
var nullable = map[string]bool{"$.incident.monitoring_at": true}

// sameShape lists how got differs from the sample want in keys and JSON
// types. A null in the sample stands for a value Statuspage leaves empty:
// got may be null or a string there. An array may be null (Statuspage
// sends affected_components as null); got's elements are compared with
// the sample's first.
func sameShape(path string, want, got any) []string {
	if got == nil && nullable[path] {
		return nil
	}
	switch w := want.(type) {
	case nil:
		if _, isString := got.(string); got != nil && !isString {
			return []string{fmt.Sprintf("%s: %T where the sample has null", path, got)}
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an object", path, got)}
		}
		var out []string
		for _, k := range sortedKeys(w) {
			if _, ok := g[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			out = append(out, sameShape(path+"."+k, w[k], g[k])...)
		}
		for _, k := range sortedKeys(g) {
			if _, ok := w[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: not in the sample", path, k))
			}
		}
		return out
	case []any:
		if got == nil {
			return nil
		}
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an array", path, got)}
		}
		var out []string
		for i, e := range g {
			if len(w) > 0 {
				out = append(out, sameShape(fmt.Sprintf("%s[%d]", path, i), w[0], e)...)
			}
		}
		return out
	default:
		if reflect.TypeOf(want) != reflect.TypeOf(got) {
			return []string{fmt.Sprintf("%s: %T, the sample has %T", path, got, want)}
		}
	}
	return nil
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
	if created.Meta.Unsubscribe != "https://status.example.com/unsubscribe/tok-hook" || created.Page.ID != "eptura-workplace" ||
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
