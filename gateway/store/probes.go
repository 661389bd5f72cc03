package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// probeQueries are the statements of queries/probes.sql.
type probeQueries struct {
	ListProbes        string `query:"list-probes"`
	GetProbe          string `query:"get-probe"`
	InsertProbe       string `query:"insert-probe"`
	UpdateProbe       string `query:"update-probe"`
	DeleteProbe       string `query:"delete-probe"`
	ClaimProbes       string `query:"claim-probes"`
	FinishProbe       string `query:"finish-probe"`
	InsertProbeResult string `query:"insert-probe-result"`
	TrimProbeResults  string `query:"trim-probe-results"`
	ListProbeResults  string `query:"list-probe-results"`
	EnsureProbeSource string `query:"ensure-probe-source"`
	ProbeUptime       string `query:"probe-uptime"`
	OrphanProbeAlerts string `query:"orphan-probe-alerts"`
}

// Bounds of the results kept per probe: the newest ProbeResultsKept, none
// older than ProbeResultsAge (a day of a 1-minute probe; 12 hours of a
// 30-second one).
const (
	ProbeResultsKept = 1440
	ProbeResultsAge  = 24 * time.Hour
)

// ProbeSourceName is the source every probe alert is stored under.
const ProbeSourceName = gateway.ProbeSourceName

// probeSpec is the JSON of probes.spec: the keys of the probe that have no
// column of their own.
type probeSpec struct {
	Target           string   `json:"target"`
	Record           string   `json:"record,omitempty"`
	Resolvers        []string `json:"resolvers,omitempty"`
	Expect           []string `json:"expect,omitempty"`
	ExpectStatus     int      `json:"expect_status,omitempty"`
	BodyContains     string   `json:"body_contains,omitempty"`
	TLSExpiryWarning string   `json:"tls_expiry_warning,omitempty"`
	Interval         string   `json:"interval"`
	Timeout          string   `json:"timeout"`
	Failures         int      `json:"failures"`
	Successes        int      `json:"successes"`
	Severity         string   `json:"severity"`
}

type probeRow struct {
	ID, Name, Kind, ComponentID, RuleID, Spec string
	Origin                                    gateway.Origin
	CreatedAt, UpdatedAt                      time.Time
}

func (r probeRow) probe() (gateway.Probe, error) {
	var sp probeSpec
	if err := json.Unmarshal([]byte(r.Spec), &sp); err != nil {
		return gateway.Probe{}, fmt.Errorf("store: probe %s spec: %w", r.Name, err)
	}
	p := gateway.Probe{ID: r.ID, Name: r.Name, Kind: r.Kind, ComponentID: r.ComponentID, Target: sp.Target,
		Record: sp.Record, Resolvers: sp.Resolvers, Expect: sp.Expect, ExpectStatus: sp.ExpectStatus,
		BodyContains: sp.BodyContains, Failures: sp.Failures, Successes: sp.Successes,
		Severity: gateway.Severity(sp.Severity), Origin: r.Origin, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, d := range []struct {
		s   string
		dst *time.Duration
	}{{sp.TLSExpiryWarning, &p.TLSExpiryWarning}, {sp.Interval, &p.Interval}, {sp.Timeout, &p.Timeout}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return gateway.Probe{}, fmt.Errorf("store: probe %s spec: %w", r.Name, err)
		}
		*d.dst = v
	}
	return p, nil
}

func specOf(p *gateway.Probe) string {
	sp := probeSpec{Target: p.Target, Record: p.Record, Resolvers: p.Resolvers, Expect: p.Expect,
		ExpectStatus: p.ExpectStatus, BodyContains: p.BodyContains, Interval: p.Interval.String(),
		Timeout: p.Timeout.String(), Failures: p.Failures, Successes: p.Successes, Severity: string(p.Severity)}
	if p.TLSExpiryWarning > 0 {
		sp.TLSExpiryWarning = p.TLSExpiryWarning.String()
	}
	b, _ := json.Marshal(sp) // plain fields: cannot fail
	return string(b)
}

// Probes lists every probe by name.
func (s *Store) Probes(ctx context.Context) ([]gateway.Probe, error) {
	var rows []probeRow
	if err := s.db.SelectContext(ctx, &rows, s.q.ListProbes); err != nil {
		return nil, wrap("list probes", err)
	}
	out := make([]gateway.Probe, 0, len(rows))
	for _, r := range rows {
		p, err := r.probe()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Probe finds a probe by id or name; ENOTFOUND when none.
func (s *Store) Probe(ctx context.Context, idOrName string) (*gateway.Probe, error) {
	r, err := getProbe(ctx, s.db, s.q, idOrName)
	if err != nil {
		return nil, err
	}
	p, err := r.probe()
	return &p, err
}

func getProbe(ctx context.Context, q sqlx.QueryerContext, qs *queries, idOrName string) (*probeRow, error) {
	var r probeRow
	if err := sqlx.GetContext(ctx, q, &r, qs.GetProbe, idOrName, idOrName); err != nil {
		if gateway.ErrorCode(mapError(err)) == gateway.ENOTFOUND {
			return nil, notFound("Probe", idOrName)
		}
		return nil, wrap("get probe", err)
	}
	return &r, nil
}

// CreateProbe inserts p (valid, defaults applied), due at once, with the
// routing rule that sends its alerts to p.ComponentID. A taken name is
// ECONFLICT; an unknown component EUNPROCESSABLE naming "component".
func (s *Store) CreateProbe(ctx context.Context, p *gateway.Probe) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error { return s.insertProbe(ctx, tx, p) })
}

func (s *Store) insertProbe(ctx context.Context, tx *sqlx.Tx, p *gateway.Probe) error {
	now := s.now()
	p.ID, p.CreatedAt, p.UpdatedAt = gateway.NewID(), now, now
	if p.Origin == "" {
		p.Origin = gateway.OriginAPI
	}
	ruleID, err := s.probeRule(ctx, tx, p, "")
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.q.InsertProbe, p.ID, p.Name, p.Kind, p.ComponentID, ruleID, specOf(p), p.Origin, now, now, now)
	return conflictName(wrap("insert probe", err), "probe", p.Name)
}

// UpdateProbe writes p (valid, defaults applied); it runs again at once.
func (s *Store) UpdateProbe(ctx context.Context, p *gateway.Probe) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error { return s.updateProbe(ctx, tx, p) })
}

func (s *Store) updateProbe(ctx context.Context, tx *sqlx.Tx, p *gateway.Probe) error {
	old, err := getProbe(ctx, tx, s.q, p.ID)
	if err != nil {
		return err
	}
	ruleID, err := s.probeRule(ctx, tx, p, old.RuleID)
	if err != nil {
		return err
	}
	now := s.now()
	p.UpdatedAt = now
	_, err = tx.ExecContext(ctx, s.q.UpdateProbe, p.Name, p.Kind, p.ComponentID, ruleID, specOf(p), p.Origin, now, now, p.ID)
	return conflictName(wrap("update probe", err), "probe", p.Name)
}

// probeRule keeps the routing rule of probe p: one that matches its alerts
// (label probe=NAME) and routes them to its component, tried before every
// other rule. It returns the rule's id, "" when p has no component (the
// rule, if any, is deleted).
func (s *Store) probeRule(ctx context.Context, tx *sqlx.Tx, p *gateway.Probe, ruleID string) (string, error) {
	if p.ComponentID == "" {
		if ruleID != "" {
			if _, err := tx.ExecContext(ctx, s.q.DeleteRule, ruleID); err != nil {
				return "", wrap("delete probe rule", err)
			}
		}
		return "", nil
	}
	if _, err := getComponent(ctx, tx, s.q, p.ComponentID); err != nil {
		if gateway.ErrorCode(err) == gateway.ENOTFOUND {
			return "", gateway.FieldError("component", "no component with this id or name")
		}
		return "", err
	}
	m, err := gateway.NewMatcher("probe", gateway.MatchEqual, p.Name)
	if err != nil {
		return "", gateway.FieldError("name", err.Error())
	}
	r := gateway.Rule{ID: ruleID, Name: "probe: " + p.Name, Position: -1, Matchers: []gateway.Matcher{m},
		ComponentIDs: []string{p.ComponentID}, Origin: gateway.OriginAPI}
	if ruleID != "" {
		var n int
		if err := tx.GetContext(ctx, &n, s.q.CountRule, ruleID); err != nil {
			return "", wrap("find probe rule", err)
		}
		if n > 0 {
			return ruleID, s.writeRule(ctx, tx, &r, false)
		}
	}
	return r.ID, s.writeRule(ctx, tx, &r, true)
}

// DeleteProbe removes a probe with its results and routing rule.
func (s *Store) DeleteProbe(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		r, err := getProbe(ctx, tx, s.q, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.DeleteProbe, r.ID); err != nil {
			return wrap("delete probe", err)
		}
		if r.RuleID != "" {
			if _, err := tx.ExecContext(ctx, s.q.DeleteRule, r.RuleID); err != nil {
				return wrap("delete probe rule", err)
			}
		}
		return nil
	})
}

// ProbeRun is a claimed probe with its state between runs.
type ProbeRun struct {
	gateway.Probe
	// DueAt is when this run was due (its drift is the time since).
	DueAt time.Time
	// Up is whether the probe's alert is resolved; Fails and Oks count
	// the failed and good runs in a row; TLSWarning whether its
	// certificate-expiry alert fires.
	Up         bool
	Fails, Oks int
	TLSWarning bool
}

// ClaimProbes leases up to n due probes for owner for lease. A probe whose
// lease ended (its replica died mid-run) is due again.
func (s *Store) ClaimProbes(ctx context.Context, owner string, n int, lease time.Duration) ([]ProbeRun, error) {
	now := s.now()
	var rows []struct {
		probeRow
		NextRunAt  time.Time
		Up         bool
		Fails, Oks int
		TLSWarning bool
	}
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, s.q.ClaimProbes, now.Add(lease), owner, now, now, n)
	})
	if err != nil {
		return nil, wrap("claim probes", err)
	}
	out := make([]ProbeRun, 0, len(rows))
	for _, r := range rows {
		p, err := r.probe()
		if err != nil {
			return nil, err
		}
		out = append(out, ProbeRun{Probe: p, DueAt: r.NextRunAt, Up: r.Up, Fails: r.Fails, Oks: r.Oks, TLSWarning: r.TLSWarning})
	}
	return out, nil
}

// FinishProbe records run's result and new state, schedules its next run
// at next and gives its lease back, in one transaction; results past the
// bounds are dropped. It reports false (and writes nothing) when owner no
// longer holds the probe: the probe was changed meanwhile, or its lease
// ended and another replica took it.
func (s *Store) FinishProbe(ctx context.Context, run ProbeRun, owner string, res gateway.ProbeResult, next time.Time) (bool, error) {
	ok := false
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		r, err := tx.ExecContext(ctx, s.q.FinishProbe, storedTime(next), run.Up, run.Fails, run.Oks, run.TLSWarning,
			run.ID, owner, storedTime(run.DueAt))
		if err != nil {
			return wrap("finish probe", err)
		}
		if n, err := r.RowsAffected(); err != nil || n == 0 {
			return wrap("finish probe", err)
		}
		ok = true
		if _, err := tx.ExecContext(ctx, s.q.InsertProbeResult, run.ID, storedTime(res.At), res.OK,
			float64(res.Duration)/float64(time.Millisecond), res.Message); err != nil {
			return wrap("insert probe result", err)
		}
		_, err = tx.ExecContext(ctx, s.q.TrimProbeResults, run.ID, storedTime(res.At.Add(-ProbeResultsAge)), run.ID, ProbeResultsKept-1)
		return wrap("trim probe results", err)
	})
	return ok, err
}

// ProbeResults returns probe id's results since since, newest first, at
// most limit.
func (s *Store) ProbeResults(ctx context.Context, id string, since time.Time, limit int) ([]gateway.ProbeResult, error) {
	var rows []struct {
		At         time.Time
		OK         bool `db:"ok"`
		DurationMs float64
		Message    string
	}
	if err := s.db.SelectContext(ctx, &rows, s.q.ListProbeResults, id, storedTime(since), limit); err != nil {
		return nil, wrap("list probe results", err)
	}
	out := make([]gateway.ProbeResult, len(rows))
	for i, r := range rows {
		out[i] = gateway.ProbeResult{At: r.At, OK: r.OK, Message: r.Message,
			Duration: time.Duration(r.DurationMs * float64(time.Millisecond))}
	}
	return out, nil
}

// ProbeUptime counts probe id's kept runs since since, and the good ones.
func (s *Store) ProbeUptime(ctx context.Context, id string, since time.Time) (good, total int, err error) {
	var r struct{ Good, Total int }
	if err := s.db.GetContext(ctx, &r, s.q.ProbeUptime, id, storedTime(since)); err != nil {
		return 0, 0, wrap("probe uptime", err)
	}
	return r.Good, r.Total, nil
}

// OrphanProbeAlerts returns the fingerprints of the firing alerts of
// source sourceID (the probe source) that no probe will resolve any more.
func (s *Store) OrphanProbeAlerts(ctx context.Context, sourceID string) ([]string, error) {
	var out []string
	err := s.db.SelectContext(ctx, &out, s.q.OrphanProbeAlerts, sourceID)
	return out, wrap("orphan probe alerts", err)
}

// ProbeSource returns the source probe alerts are stored under, making it
// on first use.
func (s *Store) ProbeSource(ctx context.Context) (*gateway.Source, error) {
	now := s.now()
	if _, err := s.wdb.ExecContext(ctx, s.q.EnsureProbeSource, gateway.NewID(), now, now); err != nil {
		return nil, wrap("ensure probe source", err)
	}
	return s.SourceByName(ctx, ProbeSourceName)
}
