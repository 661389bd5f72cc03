package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway/store"
)

// copyFlags are herald migrate copy's flags.
type copyFlags struct {
	from, to string
	opt      store.CopyOptions
}

func (a *app) migrateCopyCommand() *cobra.Command {
	var f copyFlags
	cmd := &cobra.Command{
		Use:   "copy --from URL --to URL",
		Short: "Copy a whole Herald database into another, SQLite or PostgreSQL, and verify it",
		Long: `Copy moves Herald from one database to another, either way between SQLite and
PostgreSQL (URLs as HERALD_DATABASE_URL takes them: sqlite:PATH or
postgres://…): every table, in foreign-key order, ids, times, JSON and sealed
webhook secrets unchanged; then it reads the target back and prints, per table,
the rows and a content checksum of each side.

The source must be at this herald's schema version (herald migrate up) and no
herald serve may be running on either database: the copy watches each one's
timers for a few seconds, which a running Herald moves every second. The target
must be empty: a new database (it is migrated first) or a migrated one without
rows; --restart empties a target that has rows. The copy writes in one
transaction: interrupted, it leaves the target empty, and running it again
starts over.

Nothing is sent: deliveries that were being sent are copied as due again, to
be sent by the herald serve that runs on the target. Keep HERALD_SECRET_KEY the
same (or unset on both: the generated key travels in the settings table), or
subscribers' links and webhook secrets stop working.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.migrateCopy(cmd.Context(), f) },
	}
	cmd.Flags().StringVar(&f.from, "from", "", "the source database URL (required)")
	cmd.Flags().StringVar(&f.to, "to", "", "the target database URL (required)")
	cmd.Flags().BoolVar(&f.opt.Restart, "restart", false, "empty the target's tables first (everything in the target is lost)")
	cmd.Flags().BoolVar(&f.opt.Force, "force", false, "skip the check for a running Herald (dangerous: what it writes during the copy is lost)")
	cmd.Flags().DurationVar(&f.opt.Watch, "watch", 3*time.Second, "how long to watch each database for a running Herald")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func (a *app) migrateCopy(ctx context.Context, f copyFlags) error {
	if f.from == f.to {
		return errors.New("--from and --to name the same database")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	log := a.logger(cfg)
	src, err := store.Open(ctx, f.from, log)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer src.Close()
	dst, err := store.Open(ctx, f.to, log)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer dst.Close()

	start := time.Now()
	plan, err := store.PlanCopy(ctx, src, dst, f.opt)
	if err != nil {
		return err
	}
	if plan.Migrated > 0 {
		fmt.Fprintf(a.stdout, "migrated the target: %d migration(s)\n", plan.Migrated)
	}
	fmt.Fprintf(a.stdout, "copying %d rows from %s to %s\n", plan.Rows(), src.Dialect(), dst.Dialect())
	bar := newProgress(a.stderr, plan.Rows())
	report, err := plan.Run(ctx, func(rows int64) { bar.update(rows, int(rows)) })
	if err != nil {
		return err
	}
	bar.done(plan.Rows(), int(plan.Rows()))

	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TABLE\tSOURCE ROWS\tTARGET ROWS\tCHECKSUM\tVERIFIED")
	for _, t := range report.Tables {
		sum, ok := t.SourceSum[:16], "ok"
		if !t.OK() {
			sum, ok = t.SourceSum[:16]+" ≠ "+t.TargetSum[:16], "MISMATCH"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", t.Name, t.SourceRows, t.TargetRows, sum, ok)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !report.OK() {
		return errors.New("the copy did not verify: see the tables marked MISMATCH; the target holds the copy, the source is unchanged")
	}
	fmt.Fprintf(a.stdout, "copied and verified %d rows in %d tables in %s\n", plan.Rows(), len(report.Tables), time.Since(start).Round(time.Millisecond))
	return nil
}
