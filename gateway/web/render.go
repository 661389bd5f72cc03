package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/templates"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages are the page templates; each is parsed with the layout and the
// partials, and rendered from its "layout" template.
var pages = []string{"status", "incident", "history", "error", "subscribe", "message", "manage", "unsubscribe"}

// pageSet holds every page, parsed once at start-up.
type pageSet struct {
	pages map[string]*template.Template
}

// assetVersion changes with the embedded static files; asset URLs carry
// it, so browsers may cache them for a year.
var assetVersion = func() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := staticFiles.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

var funcs = template.FuncMap{
	// datetime words a time as the seed's page (and the emails) do:
	// "Sep 16, 2021 - 13:54 UTC".
	"datetime": templates.Datetime,
	"date":     func(t time.Time) string { return t.UTC().Format("Jan 2, 2006") },
	"clock":    func(t time.Time) string { return t.UTC().Format("15:04 MST") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"month":    func(t time.Time) string { return t.UTC().Format("January 2006") },
	"label":    statusLabel,
	"class":    statusClass,
	"percent":  percent,
	"word":     incidentWord,
	"asset":    func(name string) string { return "/assets/" + name + "?v=" + assetVersion },
	"sameDay": func(a, b time.Time) bool {
		return a.UTC().Truncate(day).Equal(b.UTC().Truncate(day))
	},
	// quiet reports whether a day of an uptime bar is worth no stop of the
	// keyboard: operational all day, or not observed.
	"quiet": func(d Day) bool { return d.Worst == "" || d.Worst == gateway.Operational },
	"excerpt": func(s string, n int) string {
		r := []rune(s)
		if len(r) <= n {
			return s
		}
		return string(r[:n]) + "…"
	},
}

// mustParseTemplates parses the embedded pages; they are part of the
// binary, so a broken one is a programming error caught by every test.
func mustParseTemplates() *pageSet {
	t := &pageSet{pages: map[string]*template.Template{}}
	for _, p := range pages {
		tmpl, err := template.New(p).Funcs(funcs).ParseFS(templateFiles,
			"templates/layout.html", "templates/partials.html", "templates/"+p+".html")
		if err != nil {
			panic(fmt.Sprintf("web: parse templates/%s.html: %v", p, err))
		}
		t.pages[p] = tmpl
	}
	return t
}

// render executes page with data into a fresh buffer.
func (t *pageSet) render(page string, data any) ([]byte, error) {
	tmpl, ok := t.pages[page]
	if !ok {
		return nil, fmt.Errorf("web: no page %q", page)
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", page, err)
	}
	return buf.Bytes(), nil
}

// asset serves an embedded static file; its URL carries the version, so
// it may be cached for a year.
func (h *Handler) asset(c echo.Context) error {
	name := path.Base(c.Param("name"))
	b, err := staticFiles.ReadFile("static/" + name)
	if err != nil {
		return gateway.Errorf(gateway.ENOTFOUND, "No such file.")
	}
	hdr := c.Response().Header()
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	etag := `"` + assetVersion + `"`
	hdr.Set("ETag", etag)
	if notModified(c.Request(), time.Time{}, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return c.Blob(http.StatusOK, ctype, b)
}
