package console

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/csrf"
	"github.com/heraldstatus/herald/gateway/http/errstatus"
	"github.com/heraldstatus/herald/templates"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// View is what every console template gets as its root ($): the layout's
// needs and the screen's own data in Data. Inside a {{range}} or {{with}},
// reach the root as $ (e.g. {{template "csrf" $}}).
type View struct {
	Title string
	// Who is signed in; the zero Principal on the sign-in page.
	Who    gateway.Principal
	CSRF   string
	Flash  *Flash
	Nav    []navItem
	Active string // the path of the nav item this page is under
	Data   any
}

// Can reports whether the signed-in role allows need ("viewer",
// "support", "admin"): {{if $.Can "support"}}<form …>{{end}}.
func (v View) Can(need string) bool { return v.Who.Role.Allows(gateway.Role(need)) }

// pageSet holds every page, each parsed once at start-up with the layout
// and the partials.
type pageSet struct{ pages map[string]*template.Template }

var funcs = template.FuncMap{
	"datetime":  templates.Datetime,
	"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"asset":     func(name string) string { return Prefix + "/static/" + name + "?v=" + assetVersion },
	"hasPrefix": strings.HasPrefix,
}

// mustParseTemplates parses templates/*.html: every file but layout.html
// and partials.html is a page named by its file name without .html. They
// are part of the binary, so a broken one is a programming error that
// every test catches.
func mustParseTemplates() *pageSet {
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	t := &pageSet{pages: map[string]*template.Template{}}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		tmpl, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", f)
		if err != nil {
			panic(fmt.Sprintf("console: parse %s: %v", f, err))
		}
		t.pages[name] = tmpl
	}
	return t
}

// postForm finds the forms that post; each must carry the CSRF field.
var (
	postForm  = regexp.MustCompile(`(?is)<form\b[^>]*\bmethod="post"[^>]*>.*?</form>`)
	csrfInput = `name="_csrf"`
)

// execute renders page into a buffer, and refuses a page with a POST
// form that lacks the CSRF field, so a forgotten token fails the first
// test that renders the page rather than every user's submit.
func (t *pageSet) execute(page string, v View) ([]byte, error) {
	tmpl, ok := t.pages[page]
	if !ok {
		return nil, fmt.Errorf("console: no page %q (templates/%s.html)", page, page)
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
		return nil, fmt.Errorf("console: render %s: %w", page, err)
	}
	for _, f := range postForm.FindAll(buf.Bytes(), -1) {
		if !bytes.Contains(f, []byte(csrfInput)) {
			return nil, fmt.Errorf("console: render %s: a POST form without {{template \"csrf\" $}}: %.80s", page, f)
		}
	}
	return buf.Bytes(), nil
}

// render writes page (templates/<page>.html) inside the layout with data
// as .Data, the signed-in person, the CSRF token and any flash message.
func (h *Handler) render(c echo.Context, status int, page, title string, data any) error {
	v := View{Title: title, Who: Principal(c), CSRF: csrfToken(c), Flash: h.takeFlash(c), Data: data}
	if v.Who.Name != "" {
		v.Nav = nav
		v.Active = activeNav(c.Request().URL.Path)
	}
	body, err := h.pages.execute(page, v)
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, body)
}

// activeNav is the nav entry the path is under (the longest match).
func activeNav(p string) string {
	active := ""
	for _, n := range nav {
		if (p == n.Path || strings.HasPrefix(p, n.Path+"/")) && len(n.Path) > len(active) {
			active = n.Path
		}
	}
	return active
}

// contentSecurityPolicy allows the console's own style sheet and scripts,
// forms that post only to this site, and no framing (no clickjacking of
// the buttons that notify thousands of people).
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// page wraps every console handler: private headers, and an error becomes
// the console's HTML error page with the status the transport maps it to.
// While Herald starts (no store yet) it answers 503 without calling fn.
func (h *Handler) page(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hdr := c.Response().Header()
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("X-Content-Type-Options", "nosniff")
		var err error
		if h.opt.Store == nil {
			err = unavailable() // starting: no handler runs without its services
		} else {
			err = fn(c)
		}
		if err == nil || c.Response().Committed {
			return err
		}
		status := errstatus.Of(err)
		var ge *gateway.Error
		switch {
		case status == http.StatusServiceUnavailable:
			hdr.Set("Retry-After", "5")
		case status == http.StatusTooManyRequests && errors.As(err, &ge) && ge.RetryAfter > 0:
			hdr.Set("Retry-After", strconv.Itoa(int(ge.RetryAfter.Seconds()+0.999)))
		case status >= 500:
			h.log.Error("console request failed", "err", err, "path", c.Request().URL.Path)
		}
		if rerr := h.render(c, status, "error", http.StatusText(status), errorView{Status: status, Message: gateway.ErrorMessage(err)}); rerr != nil {
			h.log.Error("render error page", "err", rerr)
			return err
		}
		return nil
	}
}

// errorView is the error page.
type errorView struct {
	Status  int
	Message string
}

// newCSRF guards every console POST, the sign-in form included (see
// package csrf): a browser's Sec-Fetch-Site: same-origin passes, and
// otherwise the form's _csrf field must be the token the console signed
// for this browser's herald_csrf nonce cookie and its session, so a token
// is worth nothing in another session, and a client cannot pick its own
// cookie and field. The layout's "csrf" template writes that field. The
// key is the flash cookies' (see flashKey), shared by every replica.
func (h *Handler) newCSRF() echo.MiddlewareFunc {
	return csrf.New(csrf.Config{
		Cookie: "herald_csrf", Path: Prefix, Secure: h.secure,
		Sign: func(c echo.Context, data []byte) ([]byte, error) {
			key, err := h.flashKey(c.Request().Context())
			if err != nil {
				return nil, err
			}
			m := hmac.New(sha256.New, key)
			m.Write(data)
			return m.Sum(nil), nil
		},
		Binding: func(c echo.Context) string {
			if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" {
				return gateway.HashSecret(ck.Value)
			}
			return ""
		},
		OnError: func(err error, c echo.Context) error {
			return &gateway.Error{Code: gateway.EFORBIDDEN, Err: err,
				Message: "This form has expired or did not come from the console. Please go back, reload the page and try again."}
		},
	})
}

func csrfToken(c echo.Context) string { return csrf.Token(c) }

// assetVersion changes with the embedded static files; asset URLs carry
// it, so browsers may cache them for a year.
var assetVersion = func() string {
	var b strings.Builder
	_ = fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := staticFiles.ReadFile(p)
			b.WriteString(p)
			b.Write(data)
		}
		return nil
	})
	return gateway.HashSecret(b.String())[:12]
}()

// asset serves an embedded static file (no session needed).
func (h *Handler) asset(c echo.Context) error {
	b, err := staticFiles.ReadFile("static/" + path.Base(c.Param("name")))
	if err != nil {
		return c.NoContent(http.StatusNotFound)
	}
	hdr := c.Response().Header()
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("X-Content-Type-Options", "nosniff")
	ctype := "application/octet-stream"
	switch path.Ext(c.Param("name")) {
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	}
	return c.Blob(http.StatusOK, ctype, b)
}
