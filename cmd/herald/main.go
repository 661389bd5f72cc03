// Command herald is Herald's one binary: the server (`herald serve`, the
// default) and the operator's verbs (migrate, apikey, version).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/heraldstatus/herald/gateway/config"
	"github.com/heraldstatus/herald/internal/gctune"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	gctune.Apply()
	a := &app{stdout: os.Stdout, stderr: os.Stderr, env: os.LookupEnv}
	if err := a.command().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

// app carries what the commands need from the process, so tests can run
// them in-process with their own output and environment.
type app struct {
	stdout, stderr io.Writer
	env            func(string) (string, bool)
	configPath     string
	// ready, when set, is told the server's address once it listens
	// (tests use it instead of guessing ports).
	ready func(addr string)
	// lookupTXT answers DNS TXT queries (doctor's DKIM check); nil means
	// the system resolver.
	lookupTXT func(ctx context.Context, name string) ([]string, error)
}

func (a *app) command() *cobra.Command {
	root := &cobra.Command{
		Use:   "herald",
		Short: "Herald turns monitoring alerts into incidents, a status page and subscriber notifications",
		Long: `Herald receives alerts from monitoring tools, correlates them into incidents on
named components, keeps a public status page current and notifies subscribers
by email and webhook. With no arguments it serves (see 'herald serve --help').`,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.serve(cmd.Context())
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVarP(&a.configPath, "config", "c", "", "YAML configuration file (default: $HERALD_CONFIG; none needed)")
	root.AddCommand(a.serveCommand(), a.migrateCommand(), a.apikeyCommand(), a.versionCommand(), a.broadcastCommand(), a.demoCommand(), a.subscribersCommand(), a.doctorCommand())
	root.AddCommand(a.userCommand())
	pointAtDocs(root)
	return root
}

// docPages names the page of docs/ that explains each verb; a verb not
// listed is explained in docs/cli.md.
var docPages = map[string]string{
	"serve": "docs/configuration.md", "migrate": "docs/operations.md", "apikey": "docs/security.md",
	"broadcast": "docs/delivery.md", "subscribers": "docs/subscribers.md", "user": "docs/console.md",
	"doctor": "docs/operations.md", "demo": "README.md",
}

// pointAtDocs ends every verb's --help with the docs page that explains
// it, so a reader of the help knows where the whole story is.
func pointAtDocs(root *cobra.Command) {
	var walk func(c *cobra.Command, page string)
	walk = func(c *cobra.Command, page string) {
		if p, ok := docPages[c.Name()]; ok && c.Parent() == root {
			page = p
		}
		long := c.Long
		if long == "" {
			long = c.Short
		}
		ref := "\n\nReference: " + page
		if page != "docs/cli.md" {
			ref += " (every verb: docs/cli.md)"
		}
		c.Long = long + ref + "."
		for _, sub := range c.Commands() {
			walk(sub, page)
		}
	}
	walk(root, "docs/cli.md")
}

// loadConfig reads the configuration named by --config or HERALD_CONFIG.
func (a *app) loadConfig() (*config.Config, error) {
	return config.Load(a.configPath, a.env)
}

// logger builds the process logger from the configuration.
func (a *app) logger(cfg *config.Config) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[strings.ToLower(cfg.LogLevel)]
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}
