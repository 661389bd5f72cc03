package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/console"
	"github.com/heraldstatus/herald/gateway/store"
)

// cliPrincipal is who the audit log names for the operator's verbs.
var cliPrincipal = gateway.Principal{Kind: "cli", Name: "cli"}

// userCommand manages support console accounts. There are no default
// passwords: create and password print a generated one once, or read the
// operator's own from stdin.
func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage support console accounts"}
	cmd.AddCommand(a.userCreateCommand(), a.userListCommand(), a.userDisableCommand(), a.userPasswordCommand())
	return cmd
}

func (a *app) userCreateCommand() *cobra.Command {
	var email, name, role string
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "create --email EMAIL --name NAME --role admin|support|viewer",
		Short: "Create a console account and print its password (shown only this once)",
		Long: `Create an account for the support console at /console. A random password is
generated and printed once (only its argon2id hash is stored), unless
--password-stdin reads one (at least 12 characters) from the first line of
stdin. Roles: admin (everything, users, components, sources), support
(incidents, broadcasts, maintenance, subscribers), viewer (read only).`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		password, generated, err := newPassword(fromStdin, c.InOrStdin())
		if err != nil {
			return err
		}
		return a.withStore(true, func(ctx context.Context, st *store.Store) error {
			u := &store.User{Email: email, Name: name, Role: gateway.Role(role), PasswordHash: console.HashPassword(password)}
			if err := st.CreateUser(ctx, u); err != nil {
				return plainly(err)
			}
			if err := st.Audit(ctx, cliPrincipal, "user.create", "user", u.ID, map[string]any{"email": u.Email, "role": u.Role}); err != nil {
				return err
			}
			return a.printPassword(generated, password, "created "+u.Email+" ("+string(u.Role)+")")
		})(c, args)
	}
	cmd.Flags().StringVar(&email, "email", "", "the person's email address (their sign-in name)")
	cmd.Flags().StringVar(&name, "name", "", "the person's name, as the audit log shows it")
	cmd.Flags().StringVar(&role, "role", "", "admin, support or viewer")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin instead of generating one")
	for _, f := range []string{"email", "name", "role"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

func (a *app) userListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List console accounts",
		Args:  cobra.NoArgs,
		RunE: a.withStore(true, func(ctx context.Context, st *store.Store) error {
			users, err := st.Users(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "EMAIL\tNAME\tROLE\tSTATE\tLAST SIGN-IN")
			for _, u := range users {
				state, last := "active", "never"
				if u.Disabled() {
					state = "disabled"
				}
				if !u.LastLoginAt.IsZero() {
					last = u.LastLoginAt.UTC().Format("2006-01-02 15:04 MST")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, state, last)
			}
			return w.Flush()
		}),
	}
}

func (a *app) userDisableCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "disable EMAIL|ID",
		Short: "Stop an account from signing in and end its sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.withStore(true, func(ctx context.Context, st *store.Store) error {
				if err := st.DisableUser(ctx, args[0]); err != nil {
					return plainly(err)
				}
				if err := st.Audit(ctx, cliPrincipal, "user.disable", "user", args[0], nil); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "disabled %s; its sessions have ended\n", args[0])
				return nil
			})(c, args)
		},
	}
}

func (a *app) userPasswordCommand() *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "password EMAIL|ID",
		Short: "Reset an account's password (printed once) and end its sessions",
		Args:  cobra.ExactArgs(1),
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		password, generated, err := newPassword(fromStdin, c.InOrStdin())
		if err != nil {
			return err
		}
		return a.withStore(true, func(ctx context.Context, st *store.Store) error {
			if err := st.SetUserPassword(ctx, args[0], console.HashPassword(password)); err != nil {
				return plainly(err)
			}
			if err := st.Audit(ctx, cliPrincipal, "user.password", "user", args[0], nil); err != nil {
				return err
			}
			return a.printPassword(generated, password, "password of "+args[0]+" changed; its sessions have ended")
		})(c, args)
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin instead of generating one")
	return cmd
}

// newPassword generates a password, or reads the first line of in.
func newPassword(fromStdin bool, in io.Reader) (password string, generated bool, err error) {
	if !fromStdin {
		return console.GeneratePassword(), true, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return "", false, fmt.Errorf("--password-stdin: no password on stdin")
	}
	line = strings.TrimRight(line, "\r\n")
	if len([]rune(line)) < console.MinPasswordLength {
		return "", false, fmt.Errorf("--password-stdin: the password must have at least %d characters", console.MinPasswordLength)
	}
	return line, false, nil
}

// printPassword prints a generated password (its only showing) or, for
// one the operator chose, what was done.
func (a *app) printPassword(generated bool, password, done string) error {
	if generated {
		_, err := fmt.Fprintln(a.stdout, password)
		return err
	}
	_, err := fmt.Fprintln(a.stdout, done)
	return err
}

// plainly turns the caller's mistakes (a taken email, an unknown account)
// into their message alone; internal errors keep their detail.
func plainly(err error) error {
	if gateway.ErrorCode(err) != gateway.EINTERNAL {
		return fmt.Errorf("%s", gateway.ErrorMessage(err))
	}
	return err
}
