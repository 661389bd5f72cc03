package web_test

import (
	"encoding/xml"
	"html"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// What a reader takes from the feeds, parsed independently of the
// handler's own types.
type (
	atomDoc struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      []string `xml:"id"`
		Title   []string `xml:"title"`
		Updated []string `xml:"updated"`
		Author  []struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Links   []xmlLink  `xml:"link"`
		Entries []atomItem `xml:"entry"`
	}
	atomItem struct {
		ID      []string  `xml:"id"`
		Title   []string  `xml:"title"`
		Updated []string  `xml:"updated"`
		Links   []xmlLink `xml:"link"`
		Content struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"content"`
	}
	xmlLink struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	}
	rssDoc struct {
		XMLName xml.Name `xml:"rss"`
		Version string   `xml:"version,attr"`
		Channel struct {
			Title []string `xml:"title"`
			Links []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
				Href    string `xml:"href,attr"`
			} `xml:"link"`
			Description []string `xml:"description"`
			Items       []struct {
				Title       string `xml:"title"`
				Link        string `xml:"link"`
				Description string `xml:"description"`
				GUID        string `xml:"guid"`
				PubDate     string `xml:"pubDate"`
			} `xml:"item"`
		} `xml:"channel"`
	}
)

func one(t *testing.T, what string, v []string) string {
	t.Helper()
	if len(v) != 1 || strings.TrimSpace(v[0]) == "" {
		t.Errorf("%s: %q, want exactly one, not empty", what, v)
		return ""
	}
	return v[0]
}

func rfc3339(t *testing.T, what, s string) {
	t.Helper()
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		t.Errorf("%s %q is not an RFC 3339 date: %v", what, s, err)
	}
}

func TestFeedsAreValidAndLinkThePermalinks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		inc := e.seedOutage()
		e.update(inc.ID, gateway.Resolved, `All clear: <b>"fixed"</b> & done.`)
		permalink := "https://status.example.com/incidents/" + inc.ID

		res, body := e.get("/history.atom")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
			t.Fatalf("atom: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		var atom atomDoc
		if err := xml.Unmarshal([]byte(body), &atom); err != nil {
			t.Fatalf("atom does not parse: %v\n%s", err, body)
		}
		one(t, "feed id", atom.ID)
		one(t, "feed title", atom.Title)
		rfc3339(t, "feed updated", one(t, "feed updated", atom.Updated))
		if len(atom.Author) != 1 || atom.Author[0].Name != "Eptura Workplace" {
			t.Errorf("feed author = %+v (required: the entries have none)", atom.Author)
		}
		self := false
		for _, l := range atom.Links {
			self = self || l.Rel == "self" && l.Href == "https://status.example.com/history.atom"
		}
		if !self {
			t.Errorf("no rel=self link: %+v", atom.Links)
		}
		if len(atom.Entries) != 4 {
			t.Fatalf("%d entries, want one per update (4)", len(atom.Entries))
		}
		ids := map[string]bool{}
		for i, en := range atom.Entries {
			id := one(t, "entry id", en.ID)
			if ids[id] {
				t.Errorf("entry id %q repeats", id)
			}
			ids[id] = true
			one(t, "entry title", en.Title)
			rfc3339(t, "entry updated", one(t, "entry updated", en.Updated))
			if len(en.Links) != 1 || en.Links[0].Rel != "alternate" || en.Links[0].Href != permalink {
				t.Errorf("entry %d links = %+v, want the permalink", i, en.Links)
			}
		}
		if first := atom.Entries[0]; first.Title[0] != "Customers cannot reach their sites - Resolved" ||
			first.Content.Type != "text" || first.Content.Body != `All clear: <b>"fixed"</b> & done.` {
			t.Errorf("newest entry = %+v, want the resolution, its text intact", first)
		}

		res, body = e.get("/history.rss")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/rss+xml; charset=utf-8" {
			t.Fatalf("rss: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		var rss rssDoc
		if err := xml.Unmarshal([]byte(body), &rss); err != nil {
			t.Fatalf("rss does not parse: %v\n%s", err, body)
		}
		if rss.Version != "2.0" {
			t.Errorf("rss version %q", rss.Version)
		}
		one(t, "channel title", rss.Channel.Title)
		var links []string
		self = false
		for _, l := range rss.Channel.Links {
			switch l.XMLName.Space {
			case "": // RSS's own
				links = append(links, l.Value)
			case "http://www.w3.org/2005/Atom":
				self = self || l.Href == "https://status.example.com/history.rss"
			}
		}
		if one(t, "channel link", links); !self {
			t.Error("the RSS channel has no atom:link to itself")
		}
		one(t, "channel description", rss.Channel.Description)
		if len(rss.Channel.Items) != 4 {
			t.Fatalf("%d items, want 4", len(rss.Channel.Items))
		}
		for _, it := range rss.Channel.Items {
			if it.Title == "" || it.Link != permalink || it.GUID == "" || !ids[it.GUID] {
				t.Errorf("item %+v: want a title, the permalink and the Atom entry's id as guid", it)
			}
			if _, err := mail.ParseDate(it.PubDate); err != nil {
				t.Errorf("pubDate %q is not an RFC 822 date: %v", it.PubDate, err)
			}
		}
	})
}

// An RSS item's title is escaped as its description is: a reader that
// takes either as HTML finds text, never markup, and unescaping gives the
// incident's name back exactly.
func TestRSSTitleIsEscapedLikeDescription(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		name := `<img src=x onerror=alert(1)> "DNS" & <b>sites</b>`
		body := `<script>alert(2)</script> & more`
		_, err := e.svc.Create(e.ctx, support, incidents.NewIncident{Name: name, Status: gateway.Investigating,
			Body: body, Components: map[string]gateway.ComponentStatus{"Hummingbird App": gateway.MajorOutage}})
		if err != nil {
			t.Fatal(err)
		}
		res, raw := e.get("/history.rss")
		if res.StatusCode != 200 {
			t.Fatalf("rss: %d", res.StatusCode)
		}
		var rss rssDoc
		if err := xml.Unmarshal([]byte(raw), &rss); err != nil {
			t.Fatalf("rss does not parse: %v\n%s", err, raw)
		}
		if len(rss.Channel.Items) != 1 {
			t.Fatalf("%d items, want 1", len(rss.Channel.Items))
		}
		it := rss.Channel.Items[0]
		for _, f := range []struct{ what, text, want string }{
			{"title", it.Title, name + " - Investigating"},
			{"description", it.Description, body},
		} {
			if strings.ContainsAny(f.text, "<>") {
				t.Errorf("%s %q holds markup a reader would run", f.what, f.text)
			}
			if got := html.UnescapeString(f.text); got != f.want {
				t.Errorf("%s unescaped = %q, want %q", f.what, got, f.want)
			}
		}
	})
}
