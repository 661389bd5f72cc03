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
// name, and rebound to the dialect's placeholders. Each aggregate declares
// its statements in a struct of its own, in its own file, embedded here. A
// field whose block is missing, or a block that the database refuses to
// prepare, stops start-up.
type queries struct {
	componentQueries
	keyQueries
	sourceQueries
	alertQueries
	eventQueries
	deliveryQueries
	subscriberQueries
	timerQueries
	incidentQueries
	pageQueries
	pageStateQueries
	userQueries
	broadcastQueries
	timelineQueries
	draftQueries
	probeQueries
	episodeQueries
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
			if inc, ok := strings.CutPrefix(strings.TrimSpace(line), "-- include:"); ok {
				body.WriteString(includeMark(strings.TrimSpace(inc)))
				body.WriteByte('\n')
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

// A line "-- include: NAME" in a block stands for block NAME (after the
// dialect's overrides), so that two statements sharing a selection (the
// planner's insert and the dry run's count) share its one text.
func includeMark(name string) string { return "\x00include:" + name + "\x00" }

// expandIncludes replaces the include marks of text with their blocks (one
// level deep: an included block includes nothing).
func expandIncludes(text string, blocks map[string]string) (string, error) {
	for {
		i := strings.Index(text, "\x00include:")
		if i < 0 {
			return text, nil
		}
		j := strings.IndexByte(text[i+1:], 0)
		if j < 0 {
			return "", errors.New("unterminated include")
		}
		name := text[i+len("\x00include:") : i+1+j]
		inc, ok := blocks[name]
		if !ok || strings.Contains(inc, "\x00include:") {
			return "", fmt.Errorf("include %q: no such block, or it includes another", name)
		}
		text = text[:i] + inc + text[i+2+j:]
	}
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
	err := eachQuery(q, func(name string, field reflect.Value) error {
		sqlText, ok := blocks[name]
		if !ok {
			return fmt.Errorf("store: query %q is missing from queries/*.sql", name)
		}
		sqlText, err := expandIncludes(sqlText, blocks)
		if err != nil {
			return fmt.Errorf("store: query %q: %w", name, err)
		}
		field.SetString(rebind(sqlText))
		return nil
	})
	return q, err
}

// eachQuery calls fn for every `query:"name"` string field of q, through
// the embedded per-aggregate structs.
func eachQuery(q *queries, fn func(name string, field reflect.Value) error) error {
	var walk func(v reflect.Value) error
	walk = func(v reflect.Value) error {
		for i := 0; i < v.NumField(); i++ {
			f, sf := v.Field(i), v.Type().Field(i)
			if sf.Anonymous && f.Kind() == reflect.Struct {
				if err := walk(f); err != nil {
					return err
				}
				continue
			}
			if name := sf.Tag.Get("query"); name != "" {
				if err := fn(name, f); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(reflect.ValueOf(q).Elem())
}

// Prepare loads the queries and has the database prepare each one once, so
// that a broken statement stops start-up instead of failing a request later.
// It must run after Migrate.
func (s *Store) Prepare(ctx context.Context) error {
	q, err := loadQueries(s.dialect, s.db.Rebind)
	if err != nil {
		return err
	}
	err = eachQuery(q, func(name string, field reflect.Value) error {
		stmt, err := s.db.PreparexContext(ctx, field.String())
		if err != nil {
			return fmt.Errorf("store: prepare %q: %w", name, err)
		}
		return stmt.Close()
	})
	if err != nil {
		return err
	}
	s.q = q
	return nil
}
