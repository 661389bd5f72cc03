package webhook

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/heraldstatus/herald/templates"
)

// slackMessage is a Slack incoming-webhook message: text (the notification
// and fallback) and blocks (what the channel shows).
type slackMessage struct {
	Text        string       `json:"text"`
	Blocks      []slackBlock `json:"blocks"`
	UnfurlLinks bool         `json:"unfurl_links"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackSectionMax is Slack's limit on a section's text.
const slackSectionMax = 3000

func (n *Notifier) slack(in *input) (slackMessage, error) {
	data := templates.NewEmailData(in.m.Event, in.m.ManageURL, in.m.UnsubscribeURL)
	text, err := n.tmpl.RenderSlack(string(in.m.Event.Type), data)
	if err != nil {
		return slackMessage{}, err
	}
	msg := slackMessage{
		Text:   text,
		Blocks: []slackBlock{{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncateMrkdwn(text, slackSectionMax)}}},
	}
	var links string
	if u := in.m.ManageURL; u != "" {
		links = fmt.Sprintf("<%s|Manage subscription>", u)
	}
	if u := in.m.UnsubscribeURL; u != "" {
		if links != "" {
			links += " · "
		}
		links += fmt.Sprintf("<%s|Unsubscribe>", u)
	}
	if links != "" {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: links}}})
	}
	return msg, nil
}

// truncateMrkdwn cuts mrkdwn text s like truncate, and never inside an
// escaped entity (&amp;) or a link (<url|label>): half of either is a raw
// & or < that Slack would read as a control character.
func truncateMrkdwn(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := truncate(s, max)
	head := strings.TrimSuffix(cut, "…")
	if amp := strings.LastIndexByte(head, '&'); amp >= 0 && !strings.Contains(head[amp:], ";") {
		head = head[:amp]
	}
	if lt := strings.LastIndexByte(head, '<'); lt >= 0 && !strings.Contains(head[lt:], ">") {
		head = head[:lt]
	}
	return head + "…"
}

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
