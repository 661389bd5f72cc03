package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

func (a *app) apikeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Manage admin API keys",
	}
	var name, role string
	create := &cobra.Command{
		Use:   "create --name NAME --role admin|support|viewer",
		Short: "Create an API key and print it (it is shown only this once)",
		Long: `Create an API key for the admin API. Only a hash of the key is stored: copy
it from the output now. Roles: admin (everything), support (incidents,
broadcasts, subscribers), viewer (read only).`,
		Args: cobra.NoArgs,
		RunE: a.withStore(true, func(ctx context.Context, st *store.Store) error {
			k, secret, err := st.CreateAPIKey(ctx, name, gateway.Role(role), "cli")
			if err != nil && gateway.ErrorCode(err) != gateway.EINTERNAL {
				return fmt.Errorf("%s", gateway.ErrorMessage(err)) // the caller's mistake, said plainly
			} else if err != nil {
				return err
			}
			if err := st.Audit(ctx, gateway.Principal{Kind: "cli", Name: "cli"}, "api_key.create", "api_key", k.ID,
				map[string]any{"name": k.Name, "role": k.Role}); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, secret)
			return nil
		}),
	}
	create.Flags().StringVar(&name, "name", "", "a name for the key (who or what uses it)")
	create.Flags().StringVar(&role, "role", "", "admin, support or viewer")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("role")
	cmd.AddCommand(create)
	return cmd
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
