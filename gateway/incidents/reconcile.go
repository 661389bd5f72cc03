package incidents

import (
	"context"
	"sort"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/store"
)

// pass is the state of one reconcile pass.
type pass struct {
	s     *Service
	tx    *store.Tx
	now   time.Time
	names map[string]string // component id → name
	comps map[string]gateway.Component
	group map[string]int // group id → position
	wrote bool           // events were written
	// ahead is what the pass read before its write transaction; nil when
	// it reads everything inside. part is which of ahead's parts this
	// transaction correlates.
	ahead *lookahead
	part  int
	// carried are the components whose change rides in the event of the
	// change the caller makes in the same transaction (an incident that
	// closes, a maintenance that starts or completes): they send no
	// component.status_changed of their own.
	carried map[string]bool
	// rootsNow is what this transaction knows of the dependency graph,
	// nil when no component depends on another; foldBefore holds the
	// statuses components had before the incidents it folded opened.
	rootsNow   *rootState
	foldBefore map[string]gateway.ComponentStatus
}

// A reconcile pass reads its expensive inputs ahead of its write
// transaction: the pending alerts and what the active alerts say
// (ActiveComponentStatuses) cost what is pending and what is firing, tens
// of thousands of alerts in a storm, and read inside the transaction they
// held up ingest (SQLite's one writer) for as long. SQLite's readers run
// beside its writer. The pass then writes in parts of at most partSize
// pending alerts, one transaction each, so that ingest writes between them.
//
// What was read ahead may be stale by the time a part writes, and nothing
// is written on its word alone: each part checks under the write lock
// which of its alerts are pending still (another pass may have taken
// them, or they resolved) and what the incidents and maintenances are now,
// and the read component statuses only point at the components whose
// status looks wrong, each checked again. A change the read missed (an
// alert that fired after it) is the next pass's.
type lookahead struct {
	active  []store.ActiveStatus
	parts   [][]pendingGroup
	flapped bool // a part changed which alerts are flapping, which active misses
}

// pendingGroup is (a part of) the pending alerts of one correlation key.
type pendingGroup struct {
	key    string
	alerts []store.PendingAlert
	// steady counts the alerts of the whole group that are not flapping,
	// which decide whether it opens an incident (min_alerts), when the
	// group is larger than a part.
	steady int
}

// partSize bounds the pending alerts one transaction of a pass correlates.
// On SQLite, whose one writer ingest waits for, a part of 100 holds it for
// 2 to 4 ms. PostgreSQL writes beside the pass, so there a part is larger,
// since each costs a dozen round trips whatever its size; it still bounds
// how long the alerts' rows stay locked, which ingest refreshing them
// waits for.
func partSize(d store.Dialect) int {
	if d == store.SQLite {
		return 100
	}
	return 500
}

// lookAhead reads a pass's lookahead, or returns nil (the pass then reads
// inside its transaction) when a read fails.
func (s *Service) lookAhead(ctx context.Context) *lookahead {
	active, err := s.o.Store.ActiveComponentStatuses(ctx)
	if err != nil {
		s.o.Log.Warn("read active alerts ahead of the reconcile pass", "err", err)
		return nil
	}
	var g grouper
	if err := s.o.Store.EachPendingAlert(ctx, func(a store.PendingAlert) error {
		s.addPending(&g, a, true)
		return nil
	}); err != nil {
		s.o.Log.Warn("read pending alerts ahead of the reconcile pass", "err", err)
		return nil
	}
	return &lookahead{active: active, parts: split(g.groups(), partSize(s.o.Store.Dialect()))}
}

// grouper gathers pending alerts by correlation key.
type grouper struct {
	byKey map[string]*pendingGroup
	keys  []string
}

// addPending adds a to its group. lean drops the alert's labels once its
// key is known: nothing after grouping reads them, and in a storm the
// lookahead holds every pending alert (hundreds of thousands when the pass
// falls behind ingest), where the labels were most of an alert's bytes
// and so of the heap (see TestLookaheadBytesPerPendingAlert).
func (s *Service) addPending(g *grouper, a store.PendingAlert, lean bool) {
	groupIDs := make([]string, 0, len(a.Components))
	for _, c := range a.Components {
		groupIDs = append(groupIDs, c.GroupID)
	}
	key := correlate.Key(s.o.Settings.GroupBy, a.Labels, groupIDs)
	if lean {
		a.Labels = nil
	}
	if g.byKey == nil {
		g.byKey = map[string]*pendingGroup{}
	}
	grp := g.byKey[key]
	if grp == nil {
		grp = &pendingGroup{key: key}
		g.byKey[key] = grp
		g.keys = append(g.keys, key)
	}
	grp.alerts = append(grp.alerts, a)
	if !a.Flapping {
		grp.steady++
	}
}

// groups returns the groups in key order.
func (g *grouper) groups() []pendingGroup {
	sort.Strings(g.keys)
	out := make([]pendingGroup, 0, len(g.keys))
	for _, k := range g.keys {
		out = append(out, *g.byKey[k])
	}
	return out
}

// groupPending groups pending alerts by correlation key, in key order.
func (s *Service) groupPending(pending []store.PendingAlert) []pendingGroup {
	var g grouper
	for _, a := range pending {
		s.addPending(&g, a, false)
	}
	return g.groups()
}

// split packs groups into parts of at most size alerts. A group that fits
// in a part is not cut; a larger one fills parts of its own, in order, so
// its first part opens the incident and the next ones join it.
func split(groups []pendingGroup, size int) [][]pendingGroup {
	var parts [][]pendingGroup
	var cur []pendingGroup
	n := 0
	for _, g := range groups {
		if n > 0 && n+len(g.alerts) > size {
			parts, cur, n = append(parts, cur), nil, 0
		}
		for len(g.alerts) > size {
			piece := g
			piece.alerts = g.alerts[:size:size]
			parts = append(parts, []pendingGroup{piece})
			g.alerts = g.alerts[size:]
		}
		cur, n = append(cur, g), n+len(g.alerts)
	}
	if n > 0 {
		parts = append(parts, cur)
	}
	return parts
}

// partCount is how many transactions a pass with lookahead a takes.
func (a *lookahead) partCount() int {
	if a == nil || len(a.parts) == 0 {
		return 1
	}
	return len(a.parts)
}

// held reports whether the pass that read a holds the reconcile timer
// while it runs its further parts (see Service.fire).
func (a *lookahead) held() bool { return a.partCount() > 1 }

// reconcile brings incidents and components in line with the alerts:
// settles flapping alerts, puts pending alerts into incidents (opening new
// ones), derives every component's status, and moves automatic incidents
// through their lifecycle. It reports whether it wrote events. ahead, when
// not nil, is what the caller read before the transaction began, and part
// says which of its parts this transaction correlates: the first settles
// flapping alerts, the last derives component statuses and runs the
// lifecycle, once every part is in its incident.
func (s *Service) reconcile(tx *store.Tx, now time.Time, ahead *lookahead, part int) (bool, error) {
	return s.reconcileCarrying(tx, now, ahead, part, nil)
}

// settle runs a whole pass inside a change support (or a maintenance's
// timer) makes, whose own event carries the changes of the components in
// carried.
func (s *Service) settle(tx *store.Tx, now time.Time, carried map[string]gateway.ComponentStatus) error {
	ids := make(map[string]bool, len(carried))
	for id := range carried {
		ids[id] = true
	}
	_, err := s.reconcileCarrying(tx, now, nil, 0, ids)
	return err
}

func (s *Service) reconcileCarrying(tx *store.Tx, now time.Time, ahead *lookahead, part int, carried map[string]bool) (bool, error) {
	if err := tx.LockReconcile(); err != nil {
		return false, err
	}
	comps, err := tx.Components()
	if err != nil {
		return false, err
	}
	groups, err := tx.ComponentGroups()
	if err != nil {
		return false, err
	}
	p := &pass{s: s, tx: tx, now: now, names: map[string]string{}, comps: map[string]gateway.Component{}, group: map[string]int{},
		ahead: ahead, part: part, carried: carried}
	for _, c := range comps {
		p.names[c.ID], p.comps[c.ID] = c.Name, c
	}
	for _, g := range groups {
		p.group[g.ID] = g.Position
	}
	steps := []func() error{p.correlate}
	if part == 0 {
		steps = append([]func() error{p.settleFlapping}, steps...)
	}
	if part == ahead.partCount()-1 {
		steps = append(steps, p.componentStatuses, p.lifecycle)
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return false, err
		}
	}
	return p.wrote, nil
}

// settleFlapping flags alerts that change state too often (more than
// flap.changes in flap.window) and clears the flag of those that have not
// changed for a whole window: they count by their real state again.
func (p *pass) settleFlapping() error {
	set := p.s.o.Settings
	if set.FlapChanges > 0 {
		n, err := p.tx.MarkFlapping(set.FlapChanges, p.now.Add(-set.FlapWindow))
		if err != nil {
			return err
		}
		p.noteFlapped(n > 0)
	}
	flapping, err := p.tx.FlappingAlerts()
	if err != nil {
		return err
	}
	for _, f := range flapping {
		if p.s.o.Settings.Settled(correlate.Flap{}, f.LastChange(), p.now) {
			if err := p.tx.SetFlapping(f.ID, false); err != nil {
				return err
			}
			p.noteFlapped(true)
		}
	}
	return nil
}

// noteFlapped records that the pass changed which alerts are flapping:
// what it read ahead about active alerts misses that.
func (p *pass) noteFlapped(changed bool) {
	if changed && p.ahead != nil {
		p.ahead.flapped = true
	}
}

// correlate puts each pending alert into the open incident of its group, or
// opens one: the pass's part of the alerts read ahead, or, without a
// lookahead, every pending alert.
func (p *pass) correlate() error {
	var groups []pendingGroup
	// all is every pending alert of the pass, for root causes: read only
	// when some component depends on another.
	all := func() []store.PendingAlert {
		var out []store.PendingAlert
		for _, part := range p.ahead.parts {
			for _, g := range part {
				out = append(out, g.alerts...)
			}
		}
		return out
	}
	if p.ahead == nil {
		pending, err := p.tx.PendingAlerts()
		if err != nil {
			return err
		}
		groups, all = p.s.groupPending(pending), func() []store.PendingAlert { return pending }
	} else if p.part < len(p.ahead.parts) {
		groups = p.ahead.parts[p.part]
	}
	if len(groups) == 0 {
		return nil
	}
	var still map[int64]bool // nil: read under the write lock, pending
	if p.ahead != nil {
		var ids []int64
		for _, g := range groups {
			for _, a := range g.alerts {
				ids = append(ids, a.ID)
			}
		}
		var err error
		if still, err = p.tx.StillPending(ids); err != nil {
			return err
		}
	}
	maint, err := p.tx.ComponentsUnderMaintenance()
	if err != nil {
		return err
	}
	open, err := p.tx.CorrelatingIncidents()
	if err != nil {
		return err
	}
	byKey := map[string]store.CorrelatingIncident{}
	for _, inc := range open {
		byKey[inc.CorrelationKey] = inc
	}
	if p.rootsNow, err = p.rootState(all, open, maint); err != nil {
		return err
	}
	p.foldBefore = map[string]gateway.ComponentStatus{}
	// Alerts with a root cause leave their group_by group for their
	// cause's; the causes' groups go first, since they may fold incidents
	// that the other groups would join.
	type rest struct {
		g      pendingGroup
		steady int
	}
	var rests []rest
	rooted := map[string]*pendingGroup{}
	for _, g := range groups {
		alerts := make([]store.PendingAlert, 0, len(g.alerts))
		steady := g.steady
		for _, a := range g.alerts {
			live := false
			for _, c := range a.Components {
				live = live || !maint[c.ID]
			}
			// An alert taken or resolved since it was read is left out,
			// and so is one whose components are all under maintenance:
			// recorded, but it opens no incident.
			if live && (still == nil || still[a.ID]) {
				alerts = append(alerts, a)
			} else if !a.Flapping {
				steady--
			}
		}
		var kept []store.PendingAlert
		for _, a := range alerts {
			u := ""
			if p.rootsNow != nil {
				u = p.rootsNow.assign[a.ID]
			}
			if u == "" {
				kept = append(kept, a)
				continue
			}
			r := rooted[u]
			if r == nil {
				r = &pendingGroup{key: u}
				rooted[u] = r
			}
			r.alerts = append(r.alerts, a)
			if !a.Flapping {
				r.steady++
				steady--
			}
		}
		if len(kept) > 0 {
			g.alerts = kept
			rests = append(rests, rest{g, steady})
		}
	}
	us := make([]string, 0, len(rooted))
	for u := range rooted {
		us = append(us, u)
	}
	sort.Strings(us)
	for _, u := range us {
		r := rooted[u]
		if err := p.correlateGroup(correlate.RootKey(u), u, r.alerts, r.steady, byKey, maint); err != nil {
			return err
		}
	}
	for _, r := range rests {
		if err := p.correlateGroup(r.g.key, "", r.g.alerts, r.steady, byKey, maint); err != nil {
			return err
		}
	}
	return nil
}

// correlateGroup puts a group's alerts into its incident, opening it when
// the group's steady alerts (steady, which counts the whole group when it
// spans parts) are enough. root, when not "", is the group's root cause:
// its incident is the one taking its key, else the cause's own (see
// rootTarget), else the oldest incident it folds, else a new one.
func (p *pass) correlateGroup(key, root string, alerts []store.PendingAlert, steady int, byKey map[string]store.CorrelatingIncident, maint map[string]bool) error {
	set := p.s.o.Settings
	cand, ok := byKey[key]
	if !ok && root != "" {
		cand, ok = p.rootTarget(root)
	}
	if ok && !set.Joins(correlate.Candidate{ID: cand.ID, Key: key, LastAlertAt: cand.LastAlertAt.Time}, key, p.now) {
		// No alert joined it for longer than the window. While alerts of
		// it still fire it is not quiet (the seed's outage fired for
		// hours before the Hummingbird App's subsequent failure joined
		// it), and while it is monitoring an alert that fires reopens it;
		// otherwise it stops taking alerts, and a new incident tells the
		// new story.
		var err error
		if ok = cand.Status == gateway.Monitoring; !ok {
			ok, err = p.tx.IncidentActive(cand.ID)
		}
		if err != nil {
			return err
		}
		if !ok {
			inc, err := p.tx.Incident(cand.ID)
			if err != nil {
				return err
			}
			inc.CorrelationKey = ""
			if err := p.tx.SaveIncident(inc); err != nil {
				return err
			}
			delete(byKey, cand.CorrelationKey)
		}
	}
	var folds []store.CorrelatingIncident
	if root != "" {
		var err error
		if folds, err = p.foldable(root, cand.ID, alerts); err != nil {
			return err
		}
		if !ok && len(folds) > 0 {
			// The first incident of the storm becomes the cause's: its
			// address stays valid, the others fold into it.
			cand, ok, folds = folds[0], true, folds[1:]
		}
	}
	// The statuses this group gives its components.
	statuses := map[string]gateway.ComponentStatus{}
	for _, a := range alerts {
		for _, c := range a.Components {
			if !maint[c.ID] {
				statuses[c.ID] = statuses[c.ID].Worse(c.Status)
			}
		}
	}
	var inc *gateway.Incident
	var err error
	if ok {
		inc, err = p.tx.Incident(cand.ID)
	} else {
		if !set.ShouldOpen(steady) {
			return nil // below min_alerts, or only flapping alerts: no incident yet
		}
		inc, err = p.open(key, statuses)
	}
	if err != nil {
		return err
	}
	ids := make([]int64, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	confirmed := false
	if root != "" {
		confirmed = p.setRoot(inc, root, byKey)
		for _, f := range folds {
			if err := p.fold(inc, f, statuses, byKey); err != nil {
				return err
			}
		}
	}
	if err := p.tx.AttachAlerts(inc.ID, ids, p.now); err != nil {
		return err
	}
	return p.join(inc, statuses, !ok, confirmed)
}

// open creates an automatic incident for a group of alerts. Its first
// notification waits group_wait, so alerts arriving meanwhile are in it.
func (p *pass) open(key string, statuses map[string]gateway.ComponentStatus) (*gateway.Incident, error) {
	set := p.s.o.Settings
	worst := gateway.Operational
	for _, st := range statuses {
		worst = worst.Worse(st)
	}
	inc := &gateway.Incident{
		Kind: gateway.KindIncident, Name: correlate.Title(worst, p.sortedNames(statuses)),
		Status: gateway.Investigating, Impact: correlate.Impact(worst), Automated: true, Published: !set.Draft,
		CorrelationKey: key, LastAlertAt: p.now, CreatedBy: "automation", Components: map[string]gateway.ComponentStatus{},
	}
	if err := p.tx.CreateIncident(inc); err != nil {
		return nil, err
	}
	u := &gateway.IncidentUpdate{IncidentID: inc.ID, Status: gateway.Investigating, Automated: true, Notify: true, Author: "automation",
		Body: say("investigating", wordsData{Components: p.sortedNames(statuses)})}
	if err := p.tx.AddUpdate(u); err != nil {
		return nil, err
	}
	if err := p.tx.Audit(gateway.Automation, "incident.open", "incident", inc.ID, map[string]any{"name": inc.Name, "key": key}); err != nil {
		return nil, err
	}
	return inc, p.tx.SetTimer(timerNotify, inc.ID, p.now.Add(set.GroupWait))
}

// join adds a group's components to an incident. While its first
// notification is held back, the first update is rewritten to cover them
// (one message for the storm); after it, joining components get an update
// of their own, paced by group_interval.
//
// confirmed says the incident's inferred cause just became confirmed: an
// update says so (or, inside group_wait, the first update's words).
func (p *pass) join(inc *gateway.Incident, statuses map[string]gateway.ComponentStatus, opened, confirmed bool) error {
	before := map[string]gateway.ComponentStatus{}
	var added, worse []string
	for id, st := range statuses {
		old, had := inc.Components[id]
		before[id] = p.comps[id].Status
		switch {
		case !had:
			added = append(added, id)
		case st.Rank() > old.Rank() && old != gateway.Operational:
			// Worse than it is in the incident (a relapse of a component
			// that recovered is no news: it rides along, or reopens).
			worse = append(worse, id)
		}
		if was, ok := p.foldBefore[id]; ok && !had {
			before[id] = was // it was red since an incident folded into this one opened
		}
		if !had || st.Rank() > old.Rank() {
			inc.Components[id] = old.Worse(st)
			if err := p.tx.SetIncidentComponent(inc.ID, id, inc.Components[id]); err != nil {
				return err
			}
		}
	}
	inc.LastAlertAt = p.now
	notified, err := p.tx.LastNotified(inc.ID)
	if err != nil {
		return err
	}
	human := inc.HumanControlled()
	if !human {
		p.retitle(inc)
	}
	if !human && notified.IsZero() {
		// Still inside group_wait: one story, rewritten.
		if err := p.rewriteFirst(inc, before); err != nil {
			return err
		}
	} else if !human && confirmed {
		// The cause fired: one update names it confirmed, whatever joined
		// with it.
		ac := affected(p.names, before, pick(statuses, append(added, worse...)))
		body := say("confirmed", wordsData{Components: p.dependentNames(inc), Cause: inc.RootCause.Component.Name})
		if inc.Status == gateway.Monitoring {
			inc.Status, inc.MonitoringAt = gateway.Investigating, time.Time{}
			if err := p.tx.CancelTimer(timerResolve, inc.ID); err != nil {
				return err
			}
		}
		if err := p.autoUpdate(inc, body, ac); err != nil {
			return err
		}
	} else if !human && len(added)+len(worse) > 0 && !opened {
		// Components joined, or a worse alert hit one the incident has:
		// an update says so (the title and impact followed above).
		reopen := inc.Status == gateway.Monitoring
		body := say("joined", wordsData{Components: p.namesOf(added)})
		if len(added) == 0 {
			body = say("worse", wordsData{Components: p.namesOf(worse)})
		}
		if reopen {
			inc.Status, inc.MonitoringAt = gateway.Investigating, time.Time{}
			body = say("reopened", wordsData{Components: p.sortedNames(inc.Components)})
			if err := p.tx.CancelTimer(timerResolve, inc.ID); err != nil {
				return err
			}
		}
		ac := affected(p.names, before, pick(statuses, append(added, worse...)))
		if !reopen && len(worse) == 0 {
			merged, err := p.foldJoined(inc, ac)
			if err != nil || merged {
				if err == nil {
					err = p.tx.SaveIncident(inc)
				}
				return err
			}
		}
		if err := p.autoUpdate(inc, body, ac); err != nil {
			return err
		}
	} else if human && len(added) > 0 {
		if err := p.tx.Audit(gateway.Automation, "incident.alerts_joined", "incident", inc.ID,
			map[string]any{"components": p.namesOf(added), "note": "support controls this incident; automation only tracks it"}); err != nil {
			return err
		}
	}
	return p.tx.SaveIncident(inc)
}

// retitle makes an automatic incident's title and impact follow the
// facts: the title names every component the incident covers after the
// worst status any of them reached, and the impact is that status's. Both
// only escalate: a component that recovers does not make the incident
// smaller than it was. Support's incidents keep the words support chose.
func (p *pass) retitle(inc *gateway.Incident) {
	worst := correlate.Worst(inc.Impact)
	for _, st := range inc.Components {
		worst = worst.Worse(st)
	}
	inc.Name, inc.Impact = correlate.Title(worst, p.sortedNames(inc.Components)), correlate.Impact(worst)
	if inc.RootCause != nil {
		inc.Name = correlate.RootTitle(inc.RootCause.Component.Name, len(p.dependentNames(inc)))
	}
}

// rewriteFirst rewrites the incident's only (automatic) update to cover
// every component it affects now.
func (p *pass) rewriteFirst(inc *gateway.Incident, before map[string]gateway.ComponentStatus) error {
	ups, err := p.tx.Updates(inc.ID)
	if err != nil || len(ups) == 0 {
		return err
	}
	first := ups[len(ups)-1]
	if !first.Automated {
		return nil
	}
	for _, a := range first.AffectedComponents {
		before[a.ComponentID] = a.OldStatus
	}
	first.Body = p.firstWords(inc)
	first.AffectedComponents = affected(p.names, before, inc.Components)
	return p.tx.RewriteUpdate(&first)
}

// foldJoined adds components that joined to automation's latest update
// when that update also reports joined components and has not been
// announced yet: one timeline entry for what one message will say, not one
// per reconcile pass.
func (p *pass) foldJoined(inc *gateway.Incident, ac []gateway.AffectedComponent) (bool, error) {
	ups, err := p.tx.Updates(inc.ID)
	if err != nil || len(ups) == 0 {
		return false, err
	}
	last := ups[0]
	if !last.Automated || last.Status != inc.Status || len(last.AffectedComponents) == 0 ||
		last.Body != say("joined", wordsData{Components: p.namesOfAffected(last.AffectedComponents)}) {
		return false, nil
	}
	done, err := p.tx.Announced(last.ID)
	if err != nil || done {
		return false, err
	}
	last.AffectedComponents = append(last.AffectedComponents, ac...)
	sortAffected(last.AffectedComponents)
	last.Body = say("joined", wordsData{Components: p.namesOfAffected(last.AffectedComponents)})
	return true, p.tx.RewriteUpdate(&last)
}

func (p *pass) namesOfAffected(ac []gateway.AffectedComponent) []string {
	ids := make([]string, 0, len(ac))
	for _, a := range ac {
		ids = append(ids, a.ComponentID)
	}
	return p.namesOf(ids)
}

// autoUpdate posts automation's update and schedules its notification no
// sooner than group_interval after the last one.
func (p *pass) autoUpdate(inc *gateway.Incident, body string, ac []gateway.AffectedComponent) error {
	u := &gateway.IncidentUpdate{IncidentID: inc.ID, Status: inc.Status, Body: body, AffectedComponents: ac,
		Automated: true, Notify: true, Author: "automation"}
	if err := p.tx.AddUpdate(u); err != nil {
		return err
	}
	return p.s.scheduleNotify(p.tx, inc, p.now)
}

// scheduleNotify sets the incident's notify timer for the earliest moment
// pacing allows.
func (s *Service) scheduleNotify(tx *store.Tx, inc *gateway.Incident, now time.Time) error {
	last, err := tx.LastNotified(inc.ID)
	if err != nil {
		return err
	}
	due := s.o.Settings.NextNotification(inc.CreatedAt, last)
	if due.Before(now) {
		due = now
	}
	return tx.SetTimerEarlier(timerNotify, inc.ID, due)
}

func (p *pass) sortedNames(m map[string]gateway.ComponentStatus) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	return p.namesOf(ids)
}

// namesOf returns component names in page order (group, then position).
func (p *pass) namesOf(ids []string) []string {
	sort.Slice(ids, func(i, j int) bool { return p.less(ids[i], ids[j]) })
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, p.names[id])
	}
	return out
}

func (p *pass) less(a, b string) bool {
	ca, cb := p.comps[a], p.comps[b]
	ga, gb := p.group[ca.GroupID], p.group[cb.GroupID]
	if ca.GroupID == "" {
		ga = ca.Position // an ungrouped component stands among the groups
	}
	if cb.GroupID == "" {
		gb = cb.Position
	}
	if ga != gb {
		return ga < gb
	}
	if ca.GroupID != cb.GroupID {
		return ca.GroupID < cb.GroupID
	}
	if ca.Position != cb.Position {
		return ca.Position < cb.Position
	}
	return ca.Name < cb.Name
}

func pick(m map[string]gateway.ComponentStatus, ids []string) map[string]gateway.ComponentStatus {
	out := make(map[string]gateway.ComponentStatus, len(ids))
	for _, id := range ids {
		out[id] = m[id]
	}
	return out
}

func sortAffected(a []gateway.AffectedComponent) {
	sort.Slice(a, func(i, j int) bool { return a[i].Name < a[j].Name })
}
