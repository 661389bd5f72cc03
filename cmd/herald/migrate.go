package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway/store"
)

func (a *app) migrateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply or list database migrations, or copy a database into another",
		Long: `Herald applies its migrations by itself at start-up; these verbs do it by
hand, e.g. before a rolling upgrade. Migrations are forward-only and each runs
in its own transaction; on PostgreSQL an advisory lock lets one replica
migrate while the others wait.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: a.withStore(false, func(ctx context.Context, st *store.Store) error {
			n, err := st.Migrate(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "applied %d migration(s)\n", n)
			return nil
		}),
	}, &cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied",
		Args:  cobra.NoArgs,
		RunE: a.withStore(false, func(ctx context.Context, st *store.Store) error {
			ms, err := st.Migrations(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT\tFILE")
			for _, m := range ms {
				state, at := "pending", ""
				if m.Applied {
					state, at = "applied", m.AppliedAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", m.Version, state, at, m.Name)
			}
			return w.Flush()
		}),
	}, a.migrateCopyCommand())
	return cmd
}

// withStore runs fn with the configured store opened for a one-shot verb
// (see openStoreOnce) and closes it after.
func (a *app) withStore(prepare bool, fn func(ctx context.Context, st *store.Store) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		st, err := a.openStoreOnce(cmd.Context(), prepare)
		if err != nil {
			return err
		}
		defer st.Close()
		return fn(cmd.Context(), st)
	}
}

// openStoreOnce opens the configured database for a one-shot verb: no
// retrying (an operator wants the error now). With prepare, it also
// migrates and prepares the queries, as the verb needs the schema.
func (a *app) openStoreOnce(ctx context.Context, prepare bool) (*store.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, a.logger(cfg))
	if err != nil {
		return nil, err
	}
	if prepare {
		if _, err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
		if err := st.Prepare(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}
