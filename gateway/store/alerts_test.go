package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestSourceTokens(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		src := &gateway.Source{Name: "prometheus", Kind: "alertmanager", RateLimit: 5}
		token, err := s.CreateSource(ctx, src)
		must(t, err)
		if len(token) < 30 || token[:5] != "hsrc_" || src.TokenPrefix != token[5:9] || src.ID == "" {
			t.Fatalf("CreateSource = %q, %+v; want an hsrc_ token and 4 characters of it after hsrc_", token, src)
		}
		if _, err := s.CreateSource(ctx, &gateway.Source{Name: "prometheus", Kind: "generic"}); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("a second source of the same name: err = %v, want conflict", err)
		}
		got, err := s.SourceByName(ctx, "prometheus")
		must(t, err)
		if !gateway.SecretMatches(token, got.TokenHash) || got.RateLimit != 5 || got.Origin != gateway.OriginAPI {
			t.Errorf("SourceByName = %+v, want the token's hash, rate 5, origin api", got)
		}
		if _, err := s.SourceByName(ctx, "nope"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("SourceByName(unknown) err = %v, want not_found", err)
		}
		if got, err := s.SourceByToken(ctx, token); err != nil || got.ID != src.ID {
			t.Errorf("SourceByToken = %v, %v; want %s", got, err, src.ID)
		}

		fresh, err := s.RotateSourceToken(ctx, src.ID)
		must(t, err)
		if _, err := s.SourceByToken(ctx, token); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
			t.Errorf("old token after rotation: err = %v, want unauthorized", err)
		}
		if got, err := s.SourceByToken(ctx, fresh); err != nil || got.ID != src.ID || got.TokenRotatedAt.IsZero() {
			t.Errorf("new token = %+v, %v; want the source with its rotation time", got, err)
		}

		src.Kind, src.RateLimit = "grafana", 0
		must(t, s.UpdateSource(ctx, src))
		if got, err := s.Source(ctx, src.ID); err != nil {
			t.Fatal(err)
		} else if got.Kind != "grafana" || got.RateLimit != 0 {
			t.Errorf("after update = %+v", got)
		}
		must(t, s.DeleteSource(ctx, src.ID))
		if err := s.DeleteSource(ctx, src.ID); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("second delete err = %v, want not_found", err)
		}
	})
}

func TestRulesCRUD(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		comp := &gateway.Component{Name: "Space Module", Position: -1}
		must(t, s.CreateComponent(ctx, comp))
		m, _ := gateway.ParseMatcher("service=~sp.*")
		first := &gateway.Rule{Position: -1, Matchers: []gateway.Matcher{m}, ComponentIDs: []string{comp.ID}}
		second := &gateway.Rule{Name: "catch-all", Position: -1, ComponentIDs: []string{comp.ID}}
		must(t, s.CreateRule(ctx, first))
		must(t, s.CreateRule(ctx, second))
		if first.Position != 0 || second.Position != 1 || first.Origin != gateway.OriginAPI {
			t.Errorf("positions %d, %d, origin %q; want 0, 1 (appended), api", first.Position, second.Position, first.Origin)
		}
		bad := &gateway.Rule{Position: -1, ComponentIDs: []string{"nope"}}
		if err := s.CreateRule(ctx, bad); gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
			t.Errorf("rule with an unknown component: err = %v, want unprocessable", err)
		}
		second.Position = 0
		first.Position = 1
		must(t, s.UpdateRule(ctx, second))
		must(t, s.UpdateRule(ctx, first))
		rules, err := s.Rules(ctx)
		must(t, err)
		if len(rules) != 2 || rules[0].ID != second.ID || !rules[1].Matches(map[string]string{"service": "space"}) {
			t.Errorf("rules after reorder = %+v", rules)
		}
		if err := s.UpdateRule(ctx, &gateway.Rule{ID: "nope"}); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("update unknown rule: err = %v", err)
		}
		must(t, s.DeleteRule(ctx, first.ID))
		if _, err := s.Rule(ctx, first.ID); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("deleted rule: err = %v", err)
		}
	})
}

func promSource(t *testing.T, s *store.Store) *gateway.Source {
	t.Helper()
	src := &gateway.Source{Name: "prom", Kind: "alertmanager"}
	_, err := s.CreateSource(context.Background(), src)
	must(t, err)
	return src
}

// newAlerts returns a merge function that stores n firing alerts (or
// updates them) with the given components.
func newAlerts(sourceID string, n int, at time.Time, comps ...store.AlertComponent) (store.MergeFunc, []string) {
	fps := make([]string, n)
	for i := range fps {
		fps[i] = fmt.Sprintf("fp-%03d", i)
	}
	return func(part []string, stored map[string]*store.AlertRecord) ([]*store.AlertRecord, error) {
		var out []*store.AlertRecord
		for _, fp := range part {
			var i int
			if _, err := fmt.Sscanf(fp, "fp-%d", &i); err != nil {
				return nil, err
			}
			rec := stored[fp]
			if rec == nil {
				rec = &store.AlertRecord{Alert: gateway.Alert{Fingerprint: fp, Status: gateway.AlertFiring,
					Severity: gateway.SeverityCritical, Labels: map[string]string{"n": fmt.Sprint(i)},
					Annotations: map[string]string{}, StartsAt: at, ReceivedAt: at, Raw: []byte(`{"n":1}`)}}
			}
			rec.LastSeenAt = at
			rec.Components = comps
			out = append(out, rec)
		}
		return out, nil
	}, fps
}

func TestUpsertAlerts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx, src := context.Background(), promSource(t, s)
		comp := &gateway.Component{Name: "API", Position: -1}
		must(t, s.CreateComponent(ctx, comp))
		at := time.Date(2026, 11, 24, 1, 0, 0, 123456000, time.UTC)

		// 600 alerts: more than one multi-row statement holds.
		merge, fps := newAlerts(src.ID, 600, at, store.AlertComponent{ComponentID: comp.ID, Status: gateway.MajorOutage})
		must(t, s.UpsertAlerts(ctx, src.ID, fps, at, merge))
		later := at.Add(time.Minute)
		merge, fps = newAlerts(src.ID, 600, later) // seen again, now routed nowhere
		must(t, s.UpsertAlerts(ctx, src.ID, fps, later, merge))

		var all []*store.AlertRecord
		for before := int64(0); ; {
			page, err := s.Alerts(ctx, store.AlertFilter{SourceID: src.ID, Before: before, Limit: 250})
			must(t, err)
			all = append(all, page...)
			if len(page) < 250 {
				break
			}
			before = page[len(page)-1].ID
		}
		if len(all) != 600 {
			t.Fatalf("paged through %d alerts, want 600 (one row per fingerprint)", len(all))
		}
		a := all[0]
		if !a.StartsAt.Equal(at) || !a.LastSeenAt.Equal(later) || len(a.Components) != 0 || a.SourceName != "prom" {
			t.Errorf("alert = %+v, want start %v, last seen %v, no components any more", a, at, later)
		}
		if got, err := s.Source(ctx, src.ID); err != nil {
			t.Fatal(err)
		} else if !got.LastAlertAt.Equal(later) {
			t.Errorf("last_alert_at = %v, want %v", got.LastAlertAt, later)
		}
		full, err := s.Alert(ctx, a.ID)
		must(t, err)
		if string(full.Raw) != `{"n":1}` || full.Labels["n"] == "" {
			t.Errorf("Alert(id) = raw %q labels %v", full.Raw, full.Labels)
		}
		for _, f := range []store.AlertFilter{
			{Status: gateway.AlertResolved}, {ComponentID: comp.ID}, {Fingerprint: "nope"}, {SourceID: "nope"},
		} {
			if got, err := s.Alerts(ctx, f); err != nil {
				t.Fatal(err)
			} else if len(got) != 0 {
				t.Errorf("Alerts(%+v) = %d alerts, want none", f, len(got))
			}
		}
		if got, err := s.Alerts(ctx, store.AlertFilter{Fingerprint: "fp-007", Status: gateway.AlertFiring}); err != nil {
			t.Fatal(err)
		} else if len(got) != 1 {
			t.Errorf("by fingerprint: %d alerts, want 1", len(got))
		}
	})
}

// A request of more fingerprints than UpsertAlerts merges at once is
// merged part after part, each part's fingerprints sorted and with their
// stored records, in one transaction: a failure in a later part leaves
// nothing of the earlier ones.
func TestUpsertAlertsInParts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx, src, at := context.Background(), promSource(t, s), time.Now()
		const n = 1100 // more than one part of 1024
		merge, fps := newAlerts(src.ID, n, at)
		var parts [][]string
		stored := 0
		watched := func(fail bool) store.MergeFunc {
			parts, stored = nil, 0
			return func(part []string, known map[string]*store.AlertRecord) ([]*store.AlertRecord, error) {
				parts, stored = append(parts, slices.Clone(part)), stored+len(known)
				if fail && len(parts) == 2 {
					return nil, errors.New("the second part fails")
				}
				return merge(part, known)
			}
		}
		if err := s.UpsertAlerts(ctx, src.ID, fps, at, watched(true)); err == nil {
			t.Fatal("UpsertAlerts whose second part fails succeeded")
		}
		if got, err := s.Alerts(ctx, store.AlertFilter{SourceID: src.ID}); err != nil {
			t.Fatal(err)
		} else if len(got) != 0 {
			t.Errorf("%d alerts stored by a request that failed in its second part, want none", len(got))
		}
		must(t, s.UpsertAlerts(ctx, src.ID, fps, at, watched(false)))
		if len(parts) != 2 || len(parts[0]) != 1024 || len(parts[1]) != n-1024 || stored != 0 ||
			!slices.Equal(slices.Concat(parts...), slices.Sorted(slices.Values(fps))) {
			t.Fatalf("merged in %d parts of %d fingerprints with %d stored records, want 1024 and %d, sorted, none stored",
				len(parts), len(slices.Concat(parts...)), stored, n-1024)
		}
		must(t, s.UpsertAlerts(ctx, src.ID, fps, at.Add(time.Second), watched(false)))
		if stored != n {
			t.Errorf("the second request found %d stored records, want %d", stored, n)
		}
	})
}

// A failure in the middle of a request's writes leaves nothing behind.
func TestUpsertAlertsIsAtomic(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx, src, at := context.Background(), promSource(t, s), time.Now()
		// The alerts insert fine; their components refer to nothing.
		merge, fps := newAlerts(src.ID, 3, at, store.AlertComponent{ComponentID: "gone", Status: gateway.MajorOutage})
		err := s.UpsertAlerts(ctx, src.ID, fps, at, merge)
		if err == nil {
			t.Fatal("UpsertAlerts with a missing component succeeded")
		}
		if got, err := s.Alerts(ctx, store.AlertFilter{}); err != nil {
			t.Fatal(err)
		} else if len(got) != 0 {
			t.Errorf("%d alerts stored by a failed request, want none", len(got))
		}
		if got, err := s.Source(ctx, src.ID); err != nil {
			t.Fatal(err)
		} else if !got.LastAlertAt.IsZero() {
			t.Errorf("last_alert_at = %v after a failed request, want unset", got.LastAlertAt)
		}
	})
}
