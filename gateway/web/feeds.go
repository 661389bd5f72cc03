package web

import (
	"bytes"
	"encoding/xml"
	"html"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// feedEntries is how many updates the feeds carry, newest first.
const feedEntries = 50

// atomFeed is an Atom 1.0 feed (RFC 4287): each entry is an incident
// update, linking to the incident's permalink.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Gen     string      `xml:"generator"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Links     []atomLink `xml:"link"`
	Content   atomText   `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// rssFeed is an RSS 2.0 feed with the same entries.
type rssFeed struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate"`
	Self          atomLink  `xml:"http://www.w3.org/2005/Atom link"`
	Items         []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	Description string  `xml:"description"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

// feedItem is an update as both feeds word it.
type feedItem struct {
	id, title, body, link string
	at                    time.Time
}

func (h *Handler) feedItems(r *request, base string) ([]feedItem, error) {
	updates, err := r.st.FeedUpdates(r.ctx, feedEntries)
	if err != nil {
		return nil, err
	}
	host := "herald"
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	items := make([]feedItem, len(updates))
	for i, u := range updates {
		// A postmortem is the incident's own entry: one id whatever
		// the times it is published again, each a new updated date.
		kind := ":incident-update:"
		if u.Status == gateway.Postmortem {
			kind = ":incident-postmortem:"
		}
		items[i] = feedItem{
			// A tag URI (RFC 4151): stable whatever the page's URL becomes.
			id:    "tag:" + host + "," + u.CreatedAt.UTC().Format("2006-01-02") + kind + u.ID,
			title: u.IncidentName + " - " + feedWord(u),
			body:  u.Body,
			link:  base + "/incidents/" + url.PathEscape(u.IncidentID),
			at:    u.DisplayAt.UTC(),
		}
	}
	return items, nil
}

func feedWord(u store.FeedUpdate) string {
	if u.IncidentKind == gateway.KindMaintenance {
		return "Maintenance " + incidentWord(u.Status)
	}
	return incidentWord(u.Status)
}

func (h *Handler) atomFeed(c echo.Context) error {
	base := h.baseURL(c)
	return h.serve(c, resource{key: "atom " + base, ctype: "application/atom+xml; charset=utf-8", render: func(r *request) ([]byte, error) {
		items, err := h.feedItems(r, base)
		if err != nil {
			return nil, err
		}
		f := atomFeed{ID: base + "/history.atom", Title: h.pageName() + " status", Updated: feedUpdated(r.version).Format(time.RFC3339),
			Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/history.atom"},
				{Rel: "alternate", Type: "text/html", Href: base + "/history"}},
			Author: atomPerson{Name: h.pageName(), URI: base + "/"}, Gen: "Herald"}
		for _, it := range items {
			f.Entries = append(f.Entries, atomEntry{ID: it.id, Title: it.title, Updated: it.at.Format(time.RFC3339),
				Published: it.at.Format(time.RFC3339), Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: it.link}},
				Content: atomText{Type: "text", Body: it.body}})
		}
		return marshalXML(f)
	}})
}

func (h *Handler) rssFeed(c echo.Context) error {
	base := h.baseURL(c)
	return h.serve(c, resource{key: "rss " + base, ctype: "application/rss+xml; charset=utf-8", render: func(r *request) ([]byte, error) {
		items, err := h.feedItems(r, base)
		if err != nil {
			return nil, err
		}
		ch := rssChannel{Title: html.EscapeString(h.pageName() + " status"), Link: base + "/", Language: "en",
			Description:   html.EscapeString("Incident and maintenance updates for " + h.pageName()),
			LastBuildDate: feedUpdated(r.version).Format(time.RFC1123Z),
			Self:          atomLink{Rel: "self", Type: "application/rss+xml", Href: base + "/history.rss"}}
		for _, it := range items {
			// RSS readers take <description>, and many take <title>, as
			// HTML: escape the text of both, or a name or body with markup
			// in it would run in the reader (one whose title is plain text
			// shows the entities, which is harmless).
			ch.Items = append(ch.Items, rssItem{Title: html.EscapeString(it.title), Link: it.link, Description: html.EscapeString(it.body),
				GUID: rssGUID{Value: it.id}, PubDate: it.at.Format(time.RFC1123Z)})
		}
		return marshalXML(rssFeed{Version: "2.0", Channel: ch})
	}})
}

// feedUpdated is the feed's last change: the data's, or the Unix epoch
// for a page with no data yet (Atom requires a date).
func feedUpdated(v store.PageVersion) time.Time {
	if v.UpdatedAt.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return v.UpdatedAt.UTC()
}

func marshalXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
