package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

func (a *app) apikeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Manage admin API keys: create, list, revoke",
		Long: `Manage the keys of the admin API. A key leaked (printed into a log, pasted
into a ticket)? Revoke it, then create another: herald apikey revoke ID,
herald apikey create --name NAME --role ROLE.`,
	}
	cmd.AddCommand(a.apikeyCreateCommand(), a.apikeyListCommand(), a.apikeyRevokeCommand())
	return cmd
}

func (a *app) apikeyCreateCommand() *cobra.Command {
	var name, role, expires string
	create := &cobra.Command{
		Use:   "create --name NAME --role admin|support|viewer [--expires 2026-12-31T00:00:00Z|720h]",
		Short: "Create an API key and print it (it is shown only this once)",
		Long: `Create an API key for the admin API. Only a hash of the key is stored: copy
it from the output now. Roles: admin (everything), support (incidents,
broadcasts, subscribers), viewer (read only). --expires takes an RFC 3339
time or a duration from now; without it the key lasts until revoked.`,
		Args: cobra.NoArgs,
		RunE: a.withStore(true, func(ctx context.Context, st *store.Store) error {
			until, err := parseExpiry(expires, time.Now())
			if err != nil {
				return err
			}
			k, secret, err := st.CreateAPIKeyUntil(ctx, name, gateway.Role(role), "cli", until)
			if err != nil && gateway.ErrorCode(err) != gateway.EINTERNAL {
				return fmt.Errorf("%s", gateway.ErrorMessage(err)) // the caller's mistake, said plainly
			} else if err != nil {
				return err
			}
			if err := st.Audit(ctx, cliPrincipal, "api_key.create", "api_key", k.ID,
				map[string]any{"name": k.Name, "role": k.Role, "expires_at": expires}); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, secret)
			return nil
		}),
	}
	create.Flags().StringVar(&name, "name", "", "a name for the key (who or what uses it)")
	create.Flags().StringVar(&role, "role", "", "admin, support or viewer")
	create.Flags().StringVar(&expires, "expires", "", "when the key stops working: an RFC 3339 time or a duration such as 720h")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("role")
	return create
}

// parseExpiry reads --expires: "" (never), an RFC 3339 time, or a
// duration from now.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("--expires: %q is neither an RFC 3339 time (2026-12-31T00:00:00Z) nor a positive duration (720h)", s)
}

func (a *app) apikeyListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List API keys, revoked and expired ones too (never their secrets)",
		Long: `List every API key: id, name, role, prefix (4 characters of the key, after
hrld_), state, created, last used (updated at most once a minute) and
expiry.`,
		Args: cobra.NoArgs,
		RunE: a.withStore(true, func(ctx context.Context, st *store.Store) error {
			keys, err := st.APIKeys(ctx)
			if err != nil {
				return err
			}
			now := time.Now()
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tROLE\tPREFIX\tSTATE\tCREATED\tLAST USED\tEXPIRES")
			for _, k := range keys {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Role, k.Prefix, k.State(now),
					cliTime(k.CreatedAt, ""), cliTime(k.LastUsedAt, "never"), cliTime(k.ExpiresAt, "never"))
			}
			return w.Flush()
		}),
	}
}

func cliTime(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

func (a *app) apikeyRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key at once (on every replica)",
		Long: `Revoke an API key by its id (from herald apikey list) or its name. It stops
working at the next request on every replica: keys are checked in the
database at every request. Console sessions signed in with it end too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(true, func(ctx context.Context, st *store.Store) error {
				if err := st.RevokeAPIKey(ctx, args[0]); gateway.ErrorCode(err) == gateway.ENOTFOUND {
					return fmt.Errorf("no live API key has the id or name %q", args[0])
				} else if err != nil {
					return err
				}
				if err := st.Audit(ctx, cliPrincipal, "api_key.revoke", "api_key", args[0], nil); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "revoked %s\n", args[0])
				return nil
			})(cmd, args)
		},
	}
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Herald's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintln(a.stdout, "herald", version)
		},
	}
}
