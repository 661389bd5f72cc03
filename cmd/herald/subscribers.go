package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/subscribers"
)

func (a *app) subscribersCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "subscribers",
		Short: "Import and export subscribers as CSV",
	}
	cmd.AddCommand(a.subscribersImportCommand(), a.subscribersExportCommand())
	return cmd
}

func (a *app) subscribersImportCommand() *cobra.Command {
	var opts subscribers.ImportOptions
	cmd := &cobra.Command{
		Use:   "import FILE.csv [--confirmed --consent-source TEXT]",
		Short: "Import email subscribers from a CSV file",
		Long: `Import reads a CSV whose first line names the columns: email (required),
components (component or group names or ids, separated by ";"; empty means
the whole page) and confirmed (true/false). It streams the file in
transactions of 1,000 rows, shows its progress on standard error, reports
every invalid row by line number and goes on. Known addresses are left as
they are, so importing a file twice adds nothing.

Unconfirmed rows become pending subscribers and are sent the confirmation
mail (double opt-in). Rows marked confirmed, or every row with --confirmed,
are active at once and need --consent-source saying where the consent was
given (kept with each subscriber).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			var size int64
			if fi, err := f.Stat(); err == nil {
				size = fi.Size()
			}
			return a.withSubscribers(cmd.Context(), func(svc *subscribers.Service) error {
				bar := newProgress(a.stderr, size)
				in := &countingReader{r: f}
				opts.Progress = func(r subscribers.ImportReport) { bar.update(in.n.Load(), r.Rows) }
				start := time.Now()
				rep, err := svc.Import(cmd.Context(), gateway.Principal{Kind: "cli", Name: "cli"}, in, opts)
				bar.done(in.n.Load(), rep.Rows)
				for _, e := range rep.Errors {
					fmt.Fprintln(a.stderr, e.Error())
				}
				if rep.Invalid > len(rep.Errors) {
					fmt.Fprintf(a.stderr, "… and %d more invalid rows\n", rep.Invalid-len(rep.Errors))
				}
				fmt.Fprintf(a.stdout, "%d rows in %v: %d added, %d already subscribed, %d suppressed, %d invalid\n",
					rep.Rows, time.Since(start).Round(time.Millisecond), rep.Added, rep.Existing, rep.Suppressed, rep.Invalid)
				if err != nil && gateway.ErrorCode(err) != gateway.EINTERNAL {
					return fmt.Errorf("%s", gateway.ErrorMessage(err)) // the file's fault, said plainly
				}
				return err
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Confirmed, "confirmed", false, "import every row as confirmed (needs --consent-source)")
	f.StringVar(&opts.ConsentSource, "consent-source", "", "where the subscribers consented, e.g. \"CRM opt-in export 2026-02\"")
	return cmd
}

func (a *app) subscribersExportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "export [FILE]",
		Short: "Export every subscriber as CSV (to FILE, or standard output)",
		Long: `Export writes every subscriber as CSV, streaming: email, components,
confirmed (the import's columns, so an export imports back), then kind,
url, format, status, consent_source and created_at. Webhook signing
secrets are never exported.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, closeOut := a.stdout, func() error { return nil }
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Create(args[0])
				if err != nil {
					return err
				}
				out, closeOut = f, f.Close
			}
			err := a.withSubscribers(cmd.Context(), func(svc *subscribers.Service) error {
				n, err := svc.Export(cmd.Context(), out, false) // the operator, with the database: nothing to hide
				if err == nil && len(args) == 1 && args[0] != "-" {
					fmt.Fprintf(a.stderr, "exported %d subscribers to %s\n", n, args[0])
				}
				return err
			})
			if cerr := closeOut(); err == nil {
				err = cerr
			}
			return err
		},
	}
}

// withSubscribers opens the store once and runs fn with a subscribers
// service configured as the server's is.
func (a *app) withSubscribers(ctx context.Context, fn func(*subscribers.Service) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStoreOnce(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := newSubscribers(ctx, st, cfg, a.logger(cfg), nil)
	if err != nil {
		return err
	}
	return fn(svc)
}

// newSubscribers builds the subscribers service over a ready store, as
// the server and the CLI both need it: the key from secret_key
// (HERALD_SECRET_KEY), else the one generated once and kept in the
// database. It installs the service's secret box on the store (see
// subscribers.New), so it must run before the dispatcher loads webhook
// subscribers. wake (may be nil) is the dispatcher's Wake, so that
// confirmation mails go out at once.
func newSubscribers(ctx context.Context, st *store.Store, cfg *config.Config, log *slog.Logger, wake func()) (*subscribers.Service, error) {
	key, err := subscribers.LoadKey(ctx, st, cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	if cfg.SecretKey == "" {
		log.Warn("no secret_key set: subscriber links and webhook secrets use a key kept in the database; set HERALD_SECRET_KEY in production")
	}
	return subscribers.New(st, subscribers.Options{Key: key, PublicURL: cfg.PublicURL, Page: pageInfo(cfg),
		Log: log.With("component", "subscribers"), AllowPrivateTargets: cfg.AllowPrivateTargets, Wake: wake}), nil
}

// countingReader counts the bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress draws an import's progress on a terminal as a bar redrawn in
// place, or, on a pipe or file, as a line per tenth of the file.
type progress struct {
	w        io.Writer
	total    int64
	tty      bool
	start    time.Time
	lastTick int64
}

func newProgress(w io.Writer, total int64) *progress {
	p := &progress{w: w, total: total, start: time.Now(), lastTick: -1}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil {
			p.tty = fi.Mode()&os.ModeCharDevice != 0
		}
	}
	return p
}

const barWidth = 30

func (p *progress) update(read int64, rows int) {
	frac := 0.0
	if p.total > 0 {
		frac = min(1, float64(read)/float64(p.total))
	}
	rate := float64(rows) / max(time.Since(p.start).Seconds(), 0.001)
	if p.tty {
		filled := int(frac * barWidth)
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %d rows  %.0f rows/s ", strings.Repeat("#", filled),
			strings.Repeat(".", barWidth-filled), 100*frac, rows, rate)
		return
	}
	if tick := int64(frac * 10); tick > p.lastTick {
		p.lastTick = tick
		fmt.Fprintf(p.w, "%3.0f%%  %d rows  %.0f rows/s\n", 100*frac, rows, rate)
	}
}

func (p *progress) done(read int64, rows int) {
	p.update(read, rows)
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
