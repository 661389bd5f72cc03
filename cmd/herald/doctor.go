package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/templates"
)

// Outcomes of a doctor check. A warning is worth reading but does not stop
// Herald from working; a failure does, and makes doctor exit non-zero.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "fail"
	checkSkip = "skip"
)

// check is one line of the doctor's report.
type check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
}

// doctor runs the checks in order and collects their outcomes; a check
// that depends on an earlier one that failed is skipped, naming it.
type doctor struct {
	timeout time.Duration
	checks  []check
}

func (d *doctor) add(name, status, detail, hint string) {
	d.checks = append(d.checks, check{Name: name, Status: status, Detail: detail, Hint: hint})
}

func (d *doctor) ok(name, detail string)         { d.add(name, checkOK, detail, "") }
func (d *doctor) warn(name, detail, hint string) { d.add(name, checkWarn, detail, hint) }
func (d *doctor) fail(name string, err error, h string) {
	// One line per check: joined errors (a config's problems) are listed
	// on it with semicolons.
	d.add(name, checkFail, strings.ReplaceAll(err.Error(), "\n", "; "), h)
}
func (d *doctor) skip(name, because string) { d.add(name, checkSkip, "not checked: "+because, "") }

func (d *doctor) failed() int {
	n := 0
	for _, c := range d.checks {
		if c.Status == checkFail {
			n++
		}
	}
	return n
}

func (a *app) doctorCommand() *cobra.Command {
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that Herald can reach its database and mail server, and that its config and templates are valid",
		Long: `Doctor loads the configuration as serve does (--config or HERALD_CONFIG, then
HERALD_* variables) and checks, one line each: the configuration; that the
database answers and is migrated (pending migrations are listed); that the
templates, with any overrides, parse; the mail server step by step (DNS, TCP,
TLS, AUTH, saying which step failed), or that the outbox directory is
writable when no SMTP server is set; when dkim is configured, that the DNS
TXT record at <selector>._domainkey.<domain> holds the key's public half (a
probe signed with the key must verify as receivers verify it); and the
public URL. It changes nothing
(a SQLite file or outbox directory that does not exist yet is not created). It exits non-zero
when a check fails; warnings do not. --json prints the same report as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d := &doctor{timeout: timeout}
			d.run(cmd.Context(), a)
			if err := d.print(a.stdout, asJSON); err != nil {
				return err
			}
			if n := d.failed(); n > 0 {
				return fmt.Errorf("doctor: %d check(s) failed", n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "bound on each network step (database, DNS, TCP, TLS, AUTH)")
	return cmd
}

func (d *doctor) run(ctx context.Context, a *app) {
	cfg, err := a.loadConfig()
	if err != nil {
		d.fail("config", err, "fix each key named, in the config file or its HERALD_* variable")
		for _, name := range []string{"database", "migrations", "templates", "mail", "dkim", "public_url"} {
			d.skip(name, "the configuration does not load")
		}
		return
	}
	src := "defaults and HERALD_* variables"
	if p, _ := a.env("HERALD_CONFIG"); a.configPath != "" || p != "" {
		src = cmp.Or(a.configPath, p) + ", defaults and HERALD_* variables"
	}
	d.ok("config", "valid ("+src+")")
	d.database(ctx, cfg)
	d.templates(cfg)
	if cfg.SMTPURL == "" {
		d.outbox(cfg.OutboxDir)
	} else {
		d.smtp(ctx, cfg.SMTPURL)
	}
	lookup := a.lookupTXT
	if lookup == nil {
		lookup = net.DefaultResolver.LookupTXT
	}
	d.dkim(ctx, cfg, lookup)
	d.publicURL(cfg.PublicURL)
}

// database opens the database (never creating a SQLite file), pings it
// and lists the pending migrations.
func (d *doctor) database(ctx context.Context, cfg *config.Config) {
	dialect, _, err := store.ParseURL(cfg.DatabaseURL)
	if err != nil {
		d.fail("database", err, "set HERALD_DATABASE_URL to sqlite:PATH or postgres://user@host/db")
		d.skip("migrations", "the database URL is invalid")
		return
	}
	if dialect == store.SQLite {
		if path := sqlitePath(cfg.DatabaseURL); !exists(path) {
			d.warn("database", fmt.Sprintf("sqlite file %s does not exist yet", path),
				"herald serve creates it at start; check the path if you expected existing data")
			d.skip("migrations", "the database does not exist yet")
			return
		}
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	began := time.Now()
	st, err := store.Open(ctx, cfg.DatabaseURL, slog.New(slog.DiscardHandler))
	if err != nil {
		d.fail("database", err, "check that the database runs, that this host can reach it and the credentials in HERALD_DATABASE_URL")
		d.skip("migrations", "the database is unreachable")
		return
	}
	defer st.Close()
	d.ok("database", fmt.Sprintf("%s answers (%v)", dialect, time.Since(began).Round(time.Millisecond)))
	ms, err := st.Migrations(ctx)
	if err != nil {
		d.fail("migrations", err, "run herald migrate status for details")
		return
	}
	var pending []string
	for _, m := range ms {
		if !m.Applied {
			pending = append(pending, filepath.Base(m.Name))
		}
	}
	if len(pending) > 0 {
		d.warn("migrations", fmt.Sprintf("%d of %d pending: %s", len(pending), len(ms), strings.Join(pending, ", ")),
			"herald serve applies them at start (one replica at a time), or run herald migrate up")
		return
	}
	d.ok("migrations", fmt.Sprintf("all %d applied", len(ms)))
}

// sqlitePath is the file of a sqlite: or file: URL.
func sqlitePath(raw string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "file:")
	p = strings.TrimPrefix(p, "//")
	p, _, _ = strings.Cut(p, "?")
	return p
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// templates parses the default templates with the overrides, and the
// From address the messages carry.
func (d *doctor) templates(cfg *config.Config) {
	tmpl, err := templates.Load(cfg.TemplatesDir)
	if err != nil {
		d.fail("templates", err, "fix or remove the override named above in templates_dir")
		return
	}
	if _, err := email.NewBuilder(email.Options{From: cfg.MailFrom, Templates: tmpl}); err != nil {
		d.fail("templates", err, "set mail_from to an address such as Status <status@example.com>")
		return
	}
	if cfg.TemplatesDir == "" {
		d.ok("templates", "the built-in templates parse")
		return
	}
	d.ok("templates", "the built-in templates and the overrides in "+cfg.TemplatesDir+" parse")
}

// outbox checks that the file outbox can write a message: the directory,
// or when it does not exist yet the nearest existing parent, which serve
// creates it in. A probe file is written and removed; nothing is left.
func (d *doctor) outbox(dir string) {
	const hint = "create the directory and let Herald's user write it, or set HERALD_SMTP_URL"
	at, detail := dir, "no SMTP server set: messages are written to "+dir
	for {
		fi, err := os.Stat(at)
		if err == nil && !fi.IsDir() {
			d.fail("outbox", fmt.Errorf("%s is not a directory", at), hint)
			return
		}
		if err == nil {
			break
		}
		parent := filepath.Dir(at)
		if !errors.Is(err, os.ErrNotExist) || parent == at {
			d.fail("outbox", err, hint)
			return
		}
		at = parent
	}
	f, err := os.CreateTemp(at, ".herald-doctor-*")
	if err != nil {
		d.fail("outbox", err, hint)
		return
	}
	f.Close()
	os.Remove(f.Name())
	if at != dir {
		detail += " (created at start, in " + at + ", which is writable)"
	} else {
		detail += " (writable)"
	}
	d.ok("outbox", detail)
}

// smtp goes through what sending mail takes, one step at a time, so that
// the report says which one fails: resolving the host, connecting, the TLS
// handshake (implicit, or STARTTLS) and authenticating. It sends nothing.
func (d *doctor) smtp(ctx context.Context, rawURL string) {
	srv, err := email.ParseServer(rawURL)
	if err != nil {
		d.fail("smtp", err, "HERALD_SMTP_URL is smtp://user:pass@host:port?tls=starttls|implicit|none or smtps://…")
		return
	}
	steps := []string{"smtp dns", "smtp tcp", "smtp tls", "smtp auth"}
	skipRest := func(from int, because string) {
		for _, s := range steps[from:] {
			d.skip(s, because)
		}
	}
	step := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, d.timeout) }

	// DNS: an IP literal needs none.
	sctx, cancel := step()
	addrs, err := resolve(sctx, srv.Host)
	cancel()
	if err != nil {
		d.fail("smtp dns", err, "check the host name in HERALD_SMTP_URL and this machine's resolver (/etc/resolv.conf)")
		skipRest(1, "the host does not resolve")
		return
	}
	d.ok("smtp dns", srv.Host+" resolves to "+strings.Join(addrs, ", "))

	// TCP.
	sctx, cancel = step()
	raw, err := (&net.Dialer{}).DialContext(sctx, "tcp", srv.Addr)
	cancel()
	if err != nil {
		d.fail("smtp tcp", err, "check the port, that the server runs and that no firewall drops the connection")
		skipRest(2, "no connection")
		return
	}
	d.ok("smtp tcp", "connected to "+raw.RemoteAddr().String())

	// TLS, then EHLO.
	tcfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: srv.Host}
	c, tlsDetail, err := smtpHandshake(raw, srv.TLS, tcfg, d.timeout)
	switch {
	case errors.Is(err, errPlainOnly):
		raw.Close()
		d.warn("smtp tls", err.Error(), "use a server that offers STARTTLS, or set tls=none to say plain text is intended")
		if srv.Username != "" {
			d.fail("smtp auth", errors.New("credentials would go in plain text: Herald refuses to send them"),
				"use a server that offers STARTTLS, smtps://, or tls=none for a trusted local relay")
		} else {
			d.skip("smtp auth", "no credentials in HERALD_SMTP_URL")
		}
		return
	case err != nil:
		raw.Close()
		d.fail("smtp tls", err, tlsHint(srv.TLS))
		skipRest(3, "no TLS session")
		return
	}
	defer c.Close()
	if srv.TLS == email.TLSNone {
		d.skip("smtp tls", "tls=none in HERALD_SMTP_URL")
	} else {
		d.ok("smtp tls", tlsDetail)
	}

	// AUTH, as serve does it: PLAIN.
	if srv.Username == "" {
		d.skip("smtp auth", "no credentials in HERALD_SMTP_URL")
	} else if err := c.Auth(sasl.NewPlainClient("", srv.Username, srv.Password)); err != nil {
		d.fail("smtp auth", err, "check the user name and password in HERALD_SMTP_URL (URL-encode special characters)")
	} else {
		d.ok("smtp auth", "authenticated as "+srv.Username)
	}
	_ = c.Quit()
}

// errPlainOnly: an opportunistic server offered no STARTTLS.
var errPlainOnly = errors.New("the server does not offer STARTTLS: mail goes in plain text")

// smtpHandshake secures raw as mode says and greets the server (EHLO); the
// detail describes the TLS session.
func smtpHandshake(raw net.Conn, mode email.TLSMode, cfg *tls.Config, timeout time.Duration) (*smtp.Client, string, error) {
	// Bounds the TLS handshake and the greeting; go-smtp bounds each
	// command after that with CommandTimeout.
	_ = raw.SetDeadline(time.Now().Add(timeout))
	var c *smtp.Client
	switch mode {
	case email.TLSImplicit, email.TLSNone:
		conn := raw
		if mode == email.TLSImplicit {
			tc := tls.Client(raw, cfg)
			if err := tc.Handshake(); err != nil {
				return nil, "", fmt.Errorf("implicit TLS handshake: %w", err)
			}
			conn = tc
		}
		c = smtp.NewClient(conn)
		c.CommandTimeout = timeout
		if err := c.Hello("localhost"); err != nil {
			c.Close()
			return nil, "", fmt.Errorf("ehlo: %w", err)
		}
	default: // STARTTLS, required or opportunistic
		var err error
		if c, err = smtp.NewClientStartTLS(raw, cfg); err != nil {
			switch {
			case !strings.Contains(err.Error(), "doesn't support STARTTLS"):
				return nil, "", fmt.Errorf("starttls: %w", err)
			case mode == email.TLSStartTLS:
				return nil, "", errors.New("the server does not offer STARTTLS, and tls=starttls requires it")
			}
			return nil, "", errPlainOnly
		}
		c.CommandTimeout = timeout
	}
	if st, ok := c.TLSConnectionState(); ok {
		return c, fmt.Sprintf("%s, %s, certificate valid for %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), cfg.ServerName), nil
	}
	return c, "plain text", nil
}

// resolve looks host up, or returns it when it is an IP address.
func resolve(ctx context.Context, host string) ([]string, error) {
	if net.ParseIP(host) != nil {
		return []string{host}, nil
	}
	return net.DefaultResolver.LookupHost(ctx, host)
}

func tlsHint(mode email.TLSMode) string {
	if mode == email.TLSImplicit {
		return "smtps:// (tls=implicit) speaks TLS from the first byte, usually on port 465; for port 587 or 25 use tls=starttls"
	}
	return "check the server's certificate (name, expiry, issuer) and that it supports TLS 1.2 or later"
}

// publicURL checks the base of the links in messages.
func (d *doctor) publicURL(raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.fail("public_url", fmt.Errorf("%q is not an absolute http(s) URL", raw), "set HERALD_PUBLIC_URL to the address readers reach Herald at")
		return
	}
	switch h := u.Hostname(); {
	case h == "localhost" || net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback():
		d.warn("public_url", raw+" is local: links in messages will not work for subscribers",
			"set HERALD_PUBLIC_URL to the address readers reach Herald at")
	case u.Scheme == "http":
		d.warn("public_url", raw+" is plain http", "serve the status page over https")
	default:
		d.ok("public_url", raw)
	}
}

// print writes the report: one line per check, or JSON.
func (d *doctor) print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			OK     bool    `json:"ok"`
			Checks []check `json:"checks"`
		}{d.failed() == 0, d.checks})
	}
	for _, c := range d.checks {
		line := fmt.Sprintf("%-4s  %-10s  %s", strings.ToUpper(c.Status), c.Name, c.Detail)
		if c.Hint != "" {
			line += " (hint: " + c.Hint + ")"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
