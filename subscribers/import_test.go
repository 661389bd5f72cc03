package subscribers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

func openTestdata(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "import", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestImportReportsInvalidRows(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		rep, err := e.svc.Import(ctx, admin, openTestdata(t, "invalid.csv"), subscribers.ImportOptions{ConsentSource: "legacy list"})
		if err != nil {
			t.Fatal(err)
		}
		type lineField struct {
			Line  int
			Field string
		}
		var got []lineField
		for _, re := range rep.Errors {
			got = append(got, lineField{re.Line, re.Field})
		}
		// Line 4's quoted address spans lines 4-5; line 7 opens a quote
		// that never closes and swallows the rest.
		want := []lineField{{2, "email"}, {3, "components"}, {4, "email"}, {6, "confirmed"}, {7, ""}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("errors at %v, want %v (%+v)", got, want, rep.Errors)
		}
		if rep.Invalid != 5 || rep.Added != 0 || rep.Rows != 5 {
			t.Errorf("report %+v", rep)
		}

		rep, err = e.svc.Import(ctx, admin, openTestdata(t, "bad-header.csv"), subscribers.ImportOptions{})
		if !errors.Is(err, subscribers.ErrHeader) || gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
			t.Errorf("bad header: %v", err)
		}

		// Confirmed rows need a consent source.
		rep, err = e.svc.Import(ctx, admin, openTestdata(t, "valid.csv"), subscribers.ImportOptions{})
		if err != nil || rep.Added != 1 || rep.Invalid != 2 || rep.Errors[0].Field != "confirmed" {
			t.Errorf("confirmed rows without consent: %+v, %v", rep, err)
		}
	})
}

// bigImport is a CSV of n rows, every 10,000th invalid; it returns the
// file, the lines of the invalid rows, and how many rows are unconfirmed.
func bigImport(n int) ([]byte, []int, int) {
	var b bytes.Buffer
	b.WriteString("email,components,confirmed\n")
	comps := []string{"Space", "Move;App", "", "Modules", "App"}
	var bad []int
	unconfirmed := 0
	for i := range n {
		switch {
		case i%10000 == 9999:
			fmt.Fprintf(&b, "broken-%d,Space,true\n", i)
			bad = append(bad, i+2)
		case i%10 == 3:
			fmt.Fprintf(&b, "user%06d@example.com,%s,false\n", i, comps[i%len(comps)])
			unconfirmed++
		default:
			fmt.Fprintf(&b, "user%06d@example.com,%s,true\n", i, comps[i%len(comps)])
		}
	}
	return b.Bytes(), bad, unconfirmed
}

// TestImport100000Rows imports 100,000 rows twice: the second run adds
// nothing, and every invalid row is reported by its line. The time is
// logged (see README), not asserted.
func TestImport100000Rows(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 5000
	}
	data, bad, unconfirmed := bigImport(n)
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		opts := subscribers.ImportOptions{ConsentSource: "legacy newsletter, double opt-in 2019"}
		start := time.Now()
		rep, err := e.svc.Import(ctx, admin, bytes.NewReader(data), opts)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: imported %d rows in %v (%.0f rows/s)", st.Dialect(), rep.Rows, took.Round(time.Millisecond), float64(rep.Rows)/took.Seconds())
		valid := n - len(bad)
		if rep.Rows != n || rep.Added != valid || rep.Invalid != len(bad) {
			t.Fatalf("first import: %+v (errors elided), want %d added of %d", summary(rep), valid, n)
		}
		for i, re := range rep.Errors {
			if re.Line != bad[i] || re.Field != "email" {
				t.Errorf("error %d at line %d (%s), want line %d", i, re.Line, re.Field, bad[i])
			}
		}

		start = time.Now()
		rep, err = e.svc.Import(ctx, admin, bytes.NewReader(data), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: imported again in %v", st.Dialect(), time.Since(start).Round(time.Millisecond))
		if rep.Added != 0 || rep.Existing != valid {
			t.Errorf("second import: %+v, want nothing added", summary(rep))
		}
		subs := storetest.MustCount(t, st, `SELECT COUNT(*) FROM subscribers`)
		events := storetest.MustCount(t, st, `SELECT COUNT(*) FROM events WHERE type = 'subscriber.confirm'`)
		if subs != valid || events != unconfirmed {
			t.Errorf("%d subscribers and %d confirmations, want %d and %d", subs, events, valid, unconfirmed)
		}
		// Imported choices reach the planner: user 8 chose the Modules
		// group, user 0 Space, user 3 is unconfirmed.
		got := e.notify(t, "Move")
		if !got[e.subscriberID(t, "user000008@example.com")] || got[e.subscriberID(t, "user000000@example.com")] ||
			got[e.subscriberID(t, "user000003@example.com")] {
			t.Error("an imported subscriber got the wrong news about Move")
		}
	})
}

func summary(r subscribers.ImportReport) subscribers.ImportReport { r.Errors = nil; return r }

// writeCounter counts the writes an export makes.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

func TestExportStreamsAndImportsBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		data, _, _ := bigImport(1500)
		if _, err := e.svc.Import(ctx, admin, bytes.NewReader(data), subscribers.ImportOptions{ConsentSource: "test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{URL: "https://hooks.example.com/x", Components: []string{"App"}}); err != nil {
			t.Fatal(err)
		}
		var out writeCounter
		n, err := e.svc.Export(ctx, &out, false)
		if err != nil || n != 1501 {
			t.Fatalf("Export = %d, %v", n, err)
		}
		if out.writes < 3 {
			t.Errorf("the export was written in %d writes; it should stream", out.writes)
		}
		if strings.Contains(out.String(), "whsec_") || strings.Contains(out.String(), "v1:") {
			t.Error("the export holds a secret")
		}
		recs, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
		if err != nil || len(recs) != 1502 || strings.Join(recs[0], ",") != "email,components,confirmed,kind,url,format,status,consent_source,created_at" {
			t.Fatalf("export: %d records, header %v, %v", len(recs), recs[0], err)
		}

		// Into a fresh store: the same subscribers and choices come back.
		other := newEnv(t, storetest.Open(t, string(st.Dialect())))
		rep, err := other.svc.Import(ctx, admin, bytes.NewReader(out.Bytes()), subscribers.ImportOptions{ConsentSource: "export"})
		if err != nil || rep.Added != 1500 || rep.Invalid != 1 || rep.Errors[0].Field != "kind" {
			t.Fatalf("import of the export: %+v, %v", summary(rep), err)
		}
		a, err := e.svc.Get(ctx, e.subscriberID(t, "user000001@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := other.svc.Get(ctx, other.subscriberID(t, "user000001@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		if len(a.ComponentIDs) != len(b.ComponentIDs) || len(a.GroupIDs) != len(b.GroupIDs) || a.Status != b.Status {
			t.Errorf("round trip: %+v became %+v", a, b)
		}
	})
}

func TestImportTestdata(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		rep, err := e.svc.Import(ctx, admin, openTestdata(t, "export.csv"), subscribers.ImportOptions{ConsentSource: "x"})
		if err != nil {
			t.Fatal(err)
		}
		// The webhook and the unsubscribed rows are reported; the pending
		// one with a formula-escaped address comes back unescaped.
		if rep.Added != 2 || rep.Invalid != 2 {
			t.Errorf("export.csv: %+v", rep)
		}
		e.subscriberID(t, "=cmd@example.com")
		rep, err = e.svc.Import(ctx, admin, openTestdata(t, "bom-crlf.csv"), subscribers.ImportOptions{})
		if err != nil || rep.Added != 1 || rep.Invalid != 1 || rep.Errors[0].Line != 4 {
			t.Errorf("bom-crlf.csv: %+v, %v", rep, err)
		}
	})
}

// A consent_source column gives each confirmed row its own consent source
// (and wins over the import's); a confirmed row with neither is refused.
func TestImportConsentSourceColumn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		csvText := "email,components,confirmed,consent_source\n" +
			"ann@example.com,,true,signed up at the 2026 trade fair\n" +
			"bob@example.com,,true,\n" +
			"cid@example.com,,false,\n"
		rep, err := e.svc.Import(ctx, admin, strings.NewReader(csvText), subscribers.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Added != 2 || rep.Invalid != 1 || rep.Errors[0].Line != 3 || rep.Errors[0].Field != "confirmed" {
			t.Fatalf("report %+v", rep)
		}
		ann, err := st.SubscriberByAddress(ctx, gateway.SubscriberEmail, "ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if ann.Status != gateway.SubscriberActive || ann.ConsentSource != "signed up at the 2026 trade fair" {
			t.Errorf("ann: status %s, consent source %q", ann.Status, ann.ConsentSource)
		}
		// With the import's own consent source, the column still wins
		// where it is set and fills in where it is not.
		rep, err = e.svc.Import(ctx, admin, strings.NewReader("email,confirmed,consent_source\ndan@example.com,true,\neve@example.com,true,CRM export\n"),
			subscribers.ImportOptions{ConsentSource: "legacy list"})
		if err != nil || rep.Added != 2 {
			t.Fatalf("report %+v, %v", rep, err)
		}
		for addr, want := range map[string]string{"dan@example.com": "legacy list", "eve@example.com": "CRM export"} {
			sub, err := st.SubscriberByAddress(ctx, gateway.SubscriberEmail, addr)
			if err != nil {
				t.Fatal(err)
			}
			if sub.ConsentSource != want {
				t.Errorf("%s: consent source %q, want %q", addr, sub.ConsentSource, want)
			}
		}
	})
}
