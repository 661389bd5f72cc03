package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
)

func (a *app) broadcastCommand() *cobra.Command {
	var b notify.Broadcast
	cmd := &cobra.Command{
		Use:   "broadcast --subject TEXT --body TEXT [--component NAME]... [--dry-run] [--idempotency-key KEY]",
		Short: "Send a message to subscribers (of some components, or everyone)",
		Long: `Broadcast writes support's own message to the subscribers of the named
components (by name or id; repeat --component), or to every subscriber when
none is named, and plans its deliveries; the running herald sends them.
--body - reads the body from standard input.

--dry-run prints how many subscribers it would reach and writes nothing.
--idempotency-key makes the command safe to repeat: a second run with the
same key sends nothing more and prints the first broadcast. Without one a
fresh key is used, so every run is a new broadcast.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if b.Body == "-" {
				body, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), notify.MaxBroadcastBody+1))
				if err != nil {
					return fmt.Errorf("read the body: %w", err)
				}
				b.Body = string(body)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			st, err := a.openStoreOnce(ctx, true)
			if err != nil {
				return err
			}
			defer st.Close()
			if b.IdempotencyKey == "" {
				b.IdempotencyKey = "cli-" + gateway.NewID()
			}
			b.Actor, b.Page = gateway.Principal{Kind: "cli", Name: "cli"}, pageInfo(cfg)
			res, err := (&notify.Planner{Store: st, Log: a.logger(cfg)}).Broadcast(ctx, b)
			if err != nil && gateway.ErrorCode(err) != gateway.EINTERNAL {
				return fmt.Errorf("%s", gateway.ErrorMessage(err)) // the caller's mistake, said plainly
			} else if err != nil {
				return err
			}
			switch {
			case b.DryRun:
				fmt.Fprintf(a.stdout, "would reach %d subscriber(s); nothing was sent\n", res.Recipients)
				return nil
			case res.Replayed:
				fmt.Fprintf(a.stdout, "broadcast %s was sent before with this key to %d subscriber(s); nothing more is sent\n",
					res.Event.ID, res.Recipients)
				return nil
			}
			if err := st.Audit(ctx, b.Actor, "broadcast.create", "event", res.Event.ID, map[string]any{
				"subject": res.Event.Payload.Broadcast.Subject, "components": res.Event.ComponentIDs, "recipients": res.Recipients}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "broadcast %s planned to %d subscriber(s) (idempotency key %s)\n",
				res.Event.ID, res.Recipients, b.IdempotencyKey)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&b.Subject, "subject", "", "the subject (one line)")
	f.StringVar(&b.Body, "body", "", "the message; - reads standard input")
	f.StringArrayVar(&b.Components, "component", nil, "a component's name or id (repeatable; none: everyone)")
	f.BoolVar(&b.DryRun, "dry-run", false, "count the recipients and send nothing")
	f.StringVar(&b.IdempotencyKey, "idempotency-key", "", "a key that makes repeating this command send nothing more")
	_ = cmd.MarkFlagRequired("subject")
	_ = cmd.MarkFlagRequired("body")
	return cmd
}
