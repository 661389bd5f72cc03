package store

import (
	"bufio"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"strings"
)

//go:embed queries
var queryFiles embed.FS

// queries holds every SQL statement Herald runs, loaded from the named
// blocks of queries/*.sql (`-- name: component-by-id`), with the dialect's
// own blocks (queries/<dialect>/*.sql) replacing the common ones of the same
// name, and rebound to the dialect's placeholders. A field whose block is
// missing, or a block that the database refuses to prepare, stops start-up.
type queries struct {
	// components.sql
	ListGroups       string `query:"list-groups"`
	GetGroup         string `query:"get-group"`
	InsertGroup      string `query:"insert-group"`
	UpdateGroup      string `query:"update-group"`
	DeleteGroup      string `query:"delete-group"`
	ListComponents   string `query:"list-components"`
	GetComponent     string `query:"get-component"`
	InsertComponent  string `query:"insert-component"`
	UpdateComponent  string `query:"update-component"`
	DeleteComponent  string `query:"delete-component"`
	NextGroupPos     string `query:"next-group-position"`
	NextComponentPos string `query:"next-component-position"`
	SyncUpdateGroup  string `query:"sync-update-group"`
	SyncUpdateComp   string `query:"sync-update-component"`

	// apikeys.sql
	InsertAPIKey   string `query:"insert-api-key"`
	APIKeyByHash   string `query:"api-key-by-hash"`
	TouchAPIKey    string `query:"touch-api-key"`
	CountAPIKeys   string `query:"count-api-keys"`
	ListAPIKeys    string `query:"list-api-keys"`
	RevokeAPIKey   string `query:"revoke-api-key"`
	InsertAuditLog string `query:"insert-audit-log"`
	ListAuditLog   string `query:"list-audit-log"`
	UpsertSetting  string `query:"upsert-setting"`
	GetSetting     string `query:"get-setting"`

	// sources.sql and rules.sql
	ListSources       string `query:"list-sources"`
	GetSource         string `query:"get-source"`
	SourceByName      string `query:"source-by-name"`
	InsertSource      string `query:"insert-source"`
	UpdateSourceToken string `query:"update-source-token"`
	UpdateSource      string `query:"update-source"`
	SyncUpdateSource  string `query:"sync-update-source"`
	ListRules         string `query:"list-rules"`
	InsertRule        string `query:"insert-rule"`
	UpdateRule        string `query:"update-rule"`
	DeleteRule        string `query:"delete-rule"`
	ListRuleComps     string `query:"list-rule-components"`
	InsertRuleComp    string `query:"insert-rule-component"`
	DeleteRuleComps   string `query:"delete-rule-components"`
}

// parseQueries reads `-- name: X` blocks from every .sql file directly in dir.
func parseQueries(fsys fs.FS, dir string, into map[string]string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		f, err := fsys.Open(path.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		var name string
		var body strings.Builder
		flush := func() {
			if name != "" {
				into[name] = strings.TrimSpace(body.String())
			}
			body.Reset()
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
				flush()
				name = strings.TrimSpace(n)
				continue
			}
			if strings.HasPrefix(strings.TrimSpace(line), "--") {
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		flush()
		f.Close()
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
	}
	return nil
}

// loadQueries fills a queries struct for the dialect.
func loadQueries(d Dialect, rebind func(string) string) (*queries, error) {
	blocks := map[string]string{}
	if err := parseQueries(queryFiles, "queries", blocks); err != nil {
		return nil, fmt.Errorf("store: queries: %w", err)
	}
	if err := parseQueries(queryFiles, "queries/"+string(d), blocks); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: queries/%s: %w", d, err)
	}
	q := &queries{}
	v := reflect.ValueOf(q).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Tag.Get("query")
		sqlText, ok := blocks[name]
		if !ok {
			return nil, fmt.Errorf("store: query %q is missing from queries/*.sql", name)
		}
		v.Field(i).SetString(rebind(sqlText))
	}
	return q, nil
}

// Prepare loads the queries and has the database prepare each one once, so
// that a broken statement stops start-up instead of failing a request later.
// It must run after Migrate.
func (s *Store) Prepare(ctx context.Context) error {
	q, err := loadQueries(s.dialect, s.db.Rebind)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(q).Elem()
	for i := 0; i < v.NumField(); i++ {
		stmt, err := s.db.PreparexContext(ctx, v.Field(i).String())
		if err != nil {
			return fmt.Errorf("store: prepare %q: %w", v.Type().Field(i).Tag.Get("query"), err)
		}
		stmt.Close()
	}
	s.q = q
	return nil
}
