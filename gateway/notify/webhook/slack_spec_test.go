package webhook_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/templates"
)

// The rules below are Slack's published ones for an incoming-webhook
// message (https://api.slack.com/messaging/webhooks), its Block Kit blocks
// (https://api.slack.com/reference/block-kit/blocks: section, context),
// text objects (https://api.slack.com/reference/block-kit/composition-objects#text)
// and mrkdwn escaping (https://api.slack.com/reference/surfaces/formatting#escaping).
// The golden files in testdata/slack guard against regressions; this test
// checks every body against the documented shape instead, so a golden file
// of a wrong shape cannot pass.
const (
	slackMaxBlocks        = 50     // blocks in one message
	slackMaxMessageText   = 40_000 // characters of top-level text; Slack truncates past it
	slackMaxSectionText   = 3000   // characters of a section's text
	slackMaxSectionFields = 10     // text objects in a section's fields
	slackMaxFieldText     = 2000   // characters of each field
	slackMaxContextElems  = 10     // elements of a context block
	slackMaxBlockID       = 255    // characters of a block_id
)

// slackMessageKeys are the top-level fields an incoming webhook accepts.
var slackMessageKeys = set("text", "blocks", "attachments", "thread_ts", "mrkdwn", "unfurl_links", "unfurl_media",
	"username", "icon_emoji", "icon_url", "channel")

// slackBlockKeys are the fields of each block type Herald may send.
var slackBlockKeys = map[string]map[string]bool{
	"section": set("type", "text", "fields", "accessory", "block_id", "expand"),
	"context": set("type", "elements", "block_id"),
	"divider": set("type", "block_id"),
	"header":  set("type", "text", "block_id"),
}

// TestSlackBodiesFollowSlacksSpec builds the slack body of every event
// type, from the sample events and from events whose texts are long and
// full of mrkdwn's control characters, and checks each against Slack's
// documented message shape and limits.
func TestSlackBodiesFollowSlacksSpec(t *testing.T) {
	n := newNotifier(t, webhook.Options{})
	long := strings.Repeat("Tom & Jerry <b>fix</b> the > sign; ", 200) // 7,000 characters, cut at 3,000
	for _, et := range templates.EventTypes() {
		for _, variant := range []string{"sample", "long"} {
			t.Run(string(et)+"/"+variant, func(t *testing.T) {
				m := message(t, et, gateway.FormatSlack, "https://hooks.example.com/h", 1)
				if variant == "long" {
					p := &m.Event.Payload
					if p.Update != nil {
						u := *p.Update
						u.Body = long
						p.Update = &u
					}
					if p.Broadcast != nil {
						p.Broadcast = &gateway.BroadcastMessage{Subject: "A & B <c>", Body: long}
					}
					if p.Incident != nil {
						in := *p.Incident
						in.Name = "Logins & payments <fail>"
						p.Incident = &in
					}
				}
				b, err := n.Body(m, now)
				if err != nil {
					t.Fatal(err)
				}
				for _, problem := range checkSlackMessage(b) {
					t.Error(problem)
				}
			})
		}
	}
}

// TestSlackSpecCheckerRejects keeps the checker honest: each body breaks
// one documented rule and must be refused.
func TestSlackSpecCheckerRejects(t *testing.T) {
	section := func(text string) string {
		return `{"text":"x","blocks":[{"type":"section","text":{"type":"mrkdwn","text":` + quote(text) + `}}]}`
	}
	for name, body := range map[string]string{
		"no text":              `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"x"}}]}`,
		"unknown field":        `{"text":"x","colour":"red"}`,
		"unknown block":        `{"text":"x","blocks":[{"type":"table"}]}`,
		"section without text": `{"text":"x","blocks":[{"type":"section"}]}`,
		"section too long":     section(strings.Repeat("a", slackMaxSectionText+1)),
		"raw ampersand":        section("Tom & Jerry"),
		"raw angle bracket":    section("a <b> c"),
		"cut entity":           section("Tom &am…"),
		"cut link":             section("see <https://example.com/x|the pa…"),
		"bad text type":        `{"text":"x","blocks":[{"type":"section","text":{"type":"markdown","text":"x"}}]}`,
		"emoji on mrkdwn":      `{"text":"x","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"x","emoji":true}}]}`,
		"empty context":        `{"text":"x","blocks":[{"type":"context","elements":[]}]}`,
		"too many blocks":      `{"text":"x","blocks":[` + strings.Repeat(`{"type":"divider"},`, slackMaxBlocks) + `{"type":"divider"}]}`,
	} {
		if len(checkSlackMessage([]byte(body))) == 0 {
			t.Errorf("%s: the checker accepted %.200s", name, body)
		}
	}
	if p := checkSlackMessage([]byte(section("Tom &amp; Jerry &lt;b&gt; <https://example.com/a?b=1&amp;c=2|the page> <mailto:x@example.com|mail>"))); len(p) != 0 {
		t.Errorf("the checker refused a valid body: %v", p)
	}
}

// checkSlackMessage returns every way body departs from Slack's documented
// incoming-webhook message shape.
func checkSlackMessage(body []byte) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	for k := range msg {
		if !slackMessageKeys[k] {
			bad("top-level field %q is not an incoming-webhook field", k)
		}
	}
	var text string
	if err := json.Unmarshal(msg["text"], &text); err != nil || text == "" {
		// With blocks, text is the notification and the fallback where
		// blocks cannot show: Slack asks for it.
		bad("top-level text must be a non-empty string (got %s)", msg["text"])
	}
	if n := utf8.RuneCountInString(text); n > slackMaxMessageText {
		bad("top-level text has %d characters, more than %d", n, slackMaxMessageText)
	}
	checkMrkdwn("text", text, bad)
	raw, ok := msg["blocks"]
	if !ok {
		return problems
	}
	var blocks []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return append(problems, "blocks is not an array of objects: "+err.Error())
	}
	if len(blocks) == 0 || len(blocks) > slackMaxBlocks {
		bad("%d blocks, want 1 to %d", len(blocks), slackMaxBlocks)
	}
	for i, b := range blocks {
		where := fmt.Sprintf("blocks[%d]", i)
		var typ string
		_ = json.Unmarshal(b["type"], &typ) // an unknown or missing type is reported below
		keys, known := slackBlockKeys[typ]
		if !known {
			bad("%s: block type %q is not one Herald may send (section, context, divider, header)", where, typ)
			continue
		}
		for k := range b {
			if !keys[k] {
				bad("%s: %s block has no field %q", where, typ, k)
			}
		}
		if id, ok := b["block_id"]; ok {
			var s string
			if json.Unmarshal(id, &s) != nil || utf8.RuneCountInString(s) > slackMaxBlockID {
				bad("%s: block_id must be a string of at most %d characters", where, slackMaxBlockID)
			}
		}
		switch typ {
		case "section":
			_, hasText := b["text"]
			_, hasFields := b["fields"]
			if !hasText && !hasFields {
				bad("%s: a section needs text or fields", where)
			}
			if hasText {
				checkTextObject(where+".text", b["text"], slackMaxSectionText, bad)
			}
			if hasFields {
				checkTextList(where+".fields", b["fields"], slackMaxSectionFields, slackMaxFieldText, bad)
			}
		case "context":
			checkTextList(where+".elements", b["elements"], slackMaxContextElems, slackMaxSectionText, bad)
		case "header":
			checkTextObject(where+".text", b["text"], 150, bad)
		}
	}
	return problems
}

// checkTextList checks an array of 1 to maxItems text objects.
func checkTextList(where string, raw json.RawMessage, maxItems, maxText int, bad func(string, ...any)) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 || len(list) > maxItems {
		bad("%s: want 1 to %d text objects", where, maxItems)
	}
	for j, e := range list {
		checkTextObject(fmt.Sprintf("%s[%d]", where, j), e, maxText, bad)
	}
}

// checkTextObject checks a Block Kit text object: plain_text or mrkdwn,
// 1 to max characters, emoji only on plain_text, verbatim only on mrkdwn.
func checkTextObject(where string, raw json.RawMessage, max int, bad func(string, ...any)) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		bad("%s: not a text object: %v", where, err)
		return
	}
	var typ, text string
	_ = json.Unmarshal(obj["type"], &typ) // checked below
	if err := json.Unmarshal(obj["text"], &text); err != nil || text == "" {
		bad("%s: text must be a non-empty string", where)
	}
	if n := utf8.RuneCountInString(text); n > max {
		bad("%s: %d characters, more than %d", where, n, max)
	}
	for k := range obj {
		switch {
		case k == "type" || k == "text":
		case k == "emoji" && typ == "plain_text", k == "verbatim" && typ == "mrkdwn":
		default:
			bad("%s: field %q is not one of a %s text object", where, k, typ)
		}
	}
	switch typ {
	case "mrkdwn":
		checkMrkdwn(where, text, bad)
	case "plain_text":
	default:
		bad("%s: type %q, want plain_text or mrkdwn", where, typ)
	}
}

// slackControl matches what may stand in mrkdwn between < and >: a link
// with an optional label (which may not hold | or >), and the escaped
// entities; everything else of &, < and > must be escaped.
var (
	slackLink   = regexp.MustCompile(`<(?:https?://|mailto:)[^\s<>|]+(?:\|[^<>|]+)?>`)
	slackEntity = regexp.MustCompile(`&(?:amp|lt|gt);`)
)

func checkMrkdwn(where, text string, bad func(string, ...any)) {
	rest := slackLink.ReplaceAllString(text, "")
	rest = slackEntity.ReplaceAllString(rest, "")
	if i := strings.IndexAny(rest, "&<>"); i >= 0 {
		from := max(0, i-30)
		bad("%s: an unescaped %q outside a link, near %q", where, rest[i], rest[from:min(len(rest), i+30)])
	}
}

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
