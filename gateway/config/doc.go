// Package config loads Herald's configuration: built-in defaults, then an
// optional YAML file, then HERALD_* environment variables, then Validate.
//
// The YAML is strict. Every unknown or duplicated key is an error that names
// the file and line ("herald.yml:12: unknown key \"group_wiat\" in
// correlation"), because a misspelt key silently falling back to its default
// is how status pages end up quiet during an outage. Values may refer to the
// environment as ${VAR} or ${VAR:-default}; "$$" stands for a literal "$" and a
// "$" not followed by "{" is left alone, so regular expressions such as
// "api$" need no escaping.
//
// Secrets (admin_token, database_url, smtp_url, secret_key and a source's
// token) may instead be read from a file named by the matching _file key or
// _FILE variable, as Docker and Kubernetes secrets are mounted. Relative
// paths in the YAML file are resolved against the file's directory; relative
// paths in the environment against the working directory. The same holds
// for dkim.private_key_file, the PEM file of the DKIM signing key, which
// Load reads and parses into DKIM.Signer, so that a wrong key stops
// start-up with the key's name.
//
// Load reports every problem it finds at once (joined with errors.Join) so
// that one start-up attempt shows everything that needs fixing. Problems
// found by Validate are *FieldError values naming the key path, such as
// "sources[1].kind"; when Load can tell where the key came from it wraps them
// in a *LineError carrying the file and line, or prefixes the environment
// variable that set it.
package config
