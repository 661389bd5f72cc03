package console

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

// subsEnv is a console test env with the subscribers service wired as
// `herald serve` wires it, and a small catalog: group "Platform" with API
// and Web, and Billing on its own.
type subsEnv struct {
	*testEnv
	svc   *subscribers.Service
	comps map[string]string // component name → id
	group string            // Platform's id
}

func withSubsService(svc **subscribers.Service, clock func() func() time.Time) envOption {
	return withOptions(func(o *Options) {
		s := subscribers.New(o.Store, subscribers.Options{Key: []byte("0123456789abcdef0123456789abcdef"),
			PublicURL: "https://status.example.com", Page: gateway.PageInfo{Name: "Example Status"},
			Log: o.Log, Now: clock(), IPBurst: 1000})
		*svc = s
		o.Subscribers = s
	})
}

func newSubsEnv(t *testing.T, dialect string, options ...envOption) *subsEnv {
	t.Helper()
	se := &subsEnv{comps: map[string]string{}}
	var e *testEnv
	// The service's clock is the env's, which exists only once the env
	// does: hand it over lazily.
	clock := func() func() time.Time { return func() time.Time { return e.clock.Now() } }
	e = newTestEnv(t, dialect, append(options, withSubsService(&se.svc, clock))...)
	se.testEnv = e
	ctx := context.Background()
	g := gateway.ComponentGroup{Name: "Platform", Position: -1}
	if err := e.st.CreateComponentGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	se.group = g.ID
	for _, c := range []gateway.Component{{Name: "API", GroupID: g.ID}, {Name: "Web", GroupID: g.ID}, {Name: "Billing"}} {
		c.Position = -1
		if err := e.st.CreateComponent(ctx, &c); err != nil {
			t.Fatal(err)
		}
		se.comps[c.Name] = c.ID
	}
	return se
}

// subscribe adds an email subscriber through the service (pending, with
// its confirmation event) and returns it.
func (e *subsEnv) subscribe(t *testing.T, email string, confirmed bool, components ...string) *gateway.Subscriber {
	t.Helper()
	req := subscribers.SubscribeRequest{Email: email, Components: components, All: len(components) == 0,
		Actor: gateway.Principal{Kind: "user", Name: "setup"}}
	if confirmed {
		req.Confirmed, req.ConsentSource = true, "test fixture"
	}
	sub, err := e.svc.Subscribe(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestSubscribersScreen(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newSubsEnv(t, d)
			ann := e.subscribe(t, "Ann.Lee@Example.com", true, "API")
			e.subscribe(t, "bob@example.net", false, "Billing")
			e.subscribe(t, "carol@example.org", true) // all components
			viewer, support := e.signIn(gateway.RoleViewer), e.signIn(gateway.RoleSupport)

			t.Run("viewers may not see addresses", func(t *testing.T) {
				for _, p := range []string{"/console/subscribers", "/console/subscribers/" + ann.ID, "/console/subscribers/export"} {
					res := viewer.get(p)
					res.wantStatus(t, http.StatusForbidden)
					if strings.Contains(strings.ToLower(res.body), "ann.lee@example.com") {
						t.Errorf("%s shows an address to a viewer", p)
					}
				}
			})

			for _, tc := range []struct {
				name, query string
				want, not   []string
			}{
				{"everyone", "", []string{"Ann.Lee@example.com", "bob@example.net", "carol@example.org"}, nil},
				// Addresses are stored normalized (the domain lower-cased)
				// and searched case-insensitively: a pasted address with
				// other capitals and spaces still finds it.
				{"by address", "q=" + url.QueryEscape("  ANN.LEE@example.COM "), []string{"Ann.Lee@example.com"}, []string{"bob@", "carol@"}},
				{"by status", "status=pending", []string{"bob@example.net"}, []string{"ann.lee@", "carol@"}},
				{"by kind", "kind=webhook", []string{"No subscriber matches"}, []string{"ann.lee@"}},
				// API is in Platform: Ann chose it, Carol has everything.
				{"by component", "component=" + e.comps["API"], []string{"Ann.Lee@example.com", "carol@example.org"}, []string{"bob@"}},
				{"by component name", "component=Billing", []string{"bob@example.net", "carol@example.org"}, []string{"ann.lee@"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := support.get("/console/subscribers?" + tc.query)
					res.wantStatus(t, http.StatusOK)
					for _, w := range tc.want {
						res.wantContains(t, w)
					}
					for _, n := range tc.not {
						if strings.Contains(strings.ToLower(res.body), n) {
							t.Errorf("lists %q", n)
						}
					}
				})
			}
			t.Run("bad filters", func(t *testing.T) {
				support.get("/console/subscribers?status=gone").wantStatus(t, http.StatusUnprocessableEntity)
				support.get("/console/subscribers?component=Nope").wantStatus(t, http.StatusUnprocessableEntity)
				support.get("/console/subscribers?cursor=zzz").wantStatus(t, http.StatusUnprocessableEntity)
			})

			t.Run("one subscriber with deliveries", func(t *testing.T) {
				// The store plans with the wall clock: claim a little after it.
				sendConfirmation(t, e.st, time.Now().UTC().Add(time.Minute))
				bob, err := e.st.SubscriberByAddress(context.Background(), gateway.SubscriberEmail, "bob@example.net")
				if err != nil {
					t.Fatal(err)
				}
				res := support.get("/console/subscribers/" + bob.ID)
				res.wantStatus(t, http.StatusOK)
				for _, w := range []string{"bob@example.net", ">pending<", "Billing", "sent · 250", "Resend the confirmation", "Unsubscribe"} {
					res.wantContains(t, w)
				}
				support.get("/console/subscribers/nope").wantStatus(t, http.StatusNotFound)
			})

			t.Run("resend a pending confirmation", func(t *testing.T) {
				bob, err := e.st.SubscriberByAddress(context.Background(), gateway.SubscriberEmail, "bob@example.net")
				if err != nil {
					t.Fatal(err)
				}
				before := countRows(t, e.st, "SELECT COUNT(*) FROM events WHERE subscriber_id = ?", bob.ID)
				e.clock.Advance(time.Hour) // past the spacing of confirmations
				res := support.submit("/console/subscribers/"+bob.ID, "/console/subscribers/"+bob.ID+"/resend", nil)
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, "Confirmation queued")
				if after := countRows(t, e.st, "SELECT COUNT(*) FROM events WHERE subscriber_id = ?", bob.ID); after != before+1 {
					t.Errorf("confirmation events %d → %d, want one more", before, after)
				}
				// Not for an active subscriber.
				support.submit("/console/subscribers/"+ann.ID, "/console/subscribers/"+ann.ID+"/resend", nil).wantStatus(t, http.StatusConflict)
			})

			t.Run("unsubscribe", func(t *testing.T) {
				path := "/console/subscribers/" + ann.ID
				// Without the form's token nothing happens.
				support.post(path+"/unsubscribe", nil).wantStatus(t, http.StatusForbidden)
				if got, err := e.svc.Get(context.Background(), ann.ID); err != nil {
					t.Fatal(err)
				} else if got.Status != gateway.SubscriberActive {
					t.Fatalf("after a forged post: %s", got.Status)
				}
				viewer.submit("/console/components", path+"/unsubscribe", nil).wantStatus(t, http.StatusForbidden)
				res := support.submit(path, path+"/unsubscribe", nil)
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, "Unsubscribed")
				res.wantContains(t, ">unsubscribed<")
				e.wantAudit(t, "subscriber.update", support.name)
			})

			// The console has no way to make who left active: support may
			// send a fresh confirmation, and the person stays pending until
			// their click.
			t.Run("a fresh confirmation for who left", func(t *testing.T) {
				path := "/console/subscribers/" + ann.ID
				page := support.get(path)
				page.wantContains(t, "Send a fresh confirmation")
				before := countRows(t, e.st, "SELECT COUNT(*) FROM events WHERE subscriber_id = ?", ann.ID)
				res := support.submit(path, path+"/resend", nil)
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, "stays pending until they click")
				res.wantContains(t, ">pending<")
				if after := countRows(t, e.st, "SELECT COUNT(*) FROM events WHERE subscriber_id = ?", ann.ID); after != before+1 {
					t.Errorf("confirmation events %d → %d, want one more", before, after)
				}
				if got, err := e.svc.Get(context.Background(), ann.ID); err != nil || got.Status != gateway.SubscriberPending {
					t.Errorf("after a fresh confirmation: %+v, %v, want pending", got, err)
				}
				e.wantAudit(t, "subscriber.reconfirm", support.name)
				// At once again: spaced out per address.
				support.submit(path, path+"/resend", nil).wantStatus(t, http.StatusTooManyRequests)
			})

			t.Run("erase leaves no address", func(t *testing.T) {
				path := "/console/subscribers/" + ann.ID
				page := support.get(path + "/erase")
				page.wantStatus(t, http.StatusOK)
				for _, w := range []string{"cannot be undone", "subscriptions", "every delivery", "every link", "audit log keeps only"} {
					page.wantContains(t, w)
				}
				support.post(path+"/erase", nil).wantStatus(t, http.StatusForbidden)
				res := support.submit(path+"/erase", path+"/erase", nil)
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, "Subscriber erased")
				if strings.Contains(strings.ToLower(res.body), "ann.lee@") {
					t.Error("the list still shows the erased address")
				}
				e.wantAudit(t, "subscriber.erase", support.name)
				wantNowhere(t, e.st, "ann.lee@example.com")
				support.get(path).wantStatus(t, http.StatusNotFound)
			})

			t.Run("export", func(t *testing.T) {
				res := support.get("/console/subscribers/export")
				res.wantStatus(t, http.StatusOK)
				if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
					t.Errorf("Content-Type %q", ct)
				}
				if !strings.HasPrefix(res.body, "email,components,confirmed,") || !strings.Contains(res.body, "bob@example.net,Billing,false") {
					t.Errorf("export:\n%s", res.body)
				}
				e.wantAudit(t, "subscriber.export", support.name)
			})
		})
	}
}

// sendConfirmation plans the waiting confirmation events and records each
// delivery as sent with an SMTP 250, as the dispatcher does.
func sendConfirmation(t *testing.T, st *store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := st.PlanPending(ctx, 100); err != nil {
		t.Fatal(err)
	}
	ds, err := st.ClaimDeliveries(ctx, "console-test", gateway.ChannelEmail, 100, time.Minute, now)
	if err != nil || len(ds) == 0 {
		t.Fatalf("claim: %d, %v", len(ds), err)
	}
	for _, d := range ds {
		err := st.CompleteDelivery(ctx, store.Completion{DeliveryID: d.ID, Owner: "console-test", SubscriberID: d.SubscriberID,
			Status: gateway.DeliverySent, Attempt: &gateway.Attempt{DeliveryID: d.ID, AttemptedAt: now, Outcome: gateway.AttemptSent, Code: 250}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func countRows(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(storetest.Rebind(st, q), args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantNowhere fails when any column of any table holds s (compared
// case-insensitively): the proof that an erasure left nothing behind.
func wantNowhere(t *testing.T, st *store.Store, s string) {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if st.Dialect() == store.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	var tables []string
	rows, err := st.DB().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables found: %v", len(tables), tables)
	}
	needle := []byte(strings.ToLower(s))
	for _, table := range tables {
		found, err := tableHolds(st.DB(), table, needle)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if found {
			t.Errorf("table %s still holds %q", table, s)
		}
	}
}

func tableHolds(db *sql.DB, table string, needle []byte) (bool, error) {
	rows, err := db.Query(fmt.Sprintf("SELECT * FROM %q", table))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return false, err
		}
		for _, v := range vals {
			var b []byte
			switch x := v.(type) {
			case string:
				b = []byte(x)
			case []byte:
				b = x
			}
			if bytes.Contains(bytes.ToLower(b), needle) {
				return true, nil
			}
		}
	}
	return false, rows.Err()
}

// uploadCSV posts a file to the import form as a browser does: multipart,
// with the form page's CSRF token.
func (c *client) uploadCSV(name, content string, fields url.Values) response {
	c.e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", c.csrf("/console/subscribers/import"))
	for k, v := range fields {
		_ = w.WriteField(k, v[0])
	}
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write([]byte(content))
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.e.srv.URL+"/console/subscribers/import", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// importFixture is what a customer's export from another status page
// looks like: a header, CRLF line ends, quoted lists, odd capitals, one
// duplicate (line 6: the domain's case does not count, the local part's
// does), line 5 with an address that is not one and line 8 with a
// component that does not exist.
const importFixture = "email,components,confirmed\r\n" +
	"Dana.Ortiz@Example.com,API;Web,true\r\n" +
	"eli@example.org,,false\r\n" +
	"\"fay@example.net\",\"Billing\",yes\r\n" +
	"not-an-address,API,true\r\n" +
	"Dana.Ortiz@EXAMPLE.com,API,true\r\n" +
	"gus@example.com,Platform,no\r\n" +
	"hal@example.com,Nonexistent,false\r\n"

func TestSubscriberImport(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newSubsEnv(t, d)
			admin, support := e.signIn(gateway.RoleAdmin), e.signIn(gateway.RoleSupport)

			support.get("/console/subscribers/import").wantStatus(t, http.StatusForbidden)
			// Confirmed rows need a consent source: refused before anything starts.
			admin.uploadCSV("list.csv", importFixture, url.Values{"confirmed": {"on"}}).wantStatus(t, http.StatusUnprocessableEntity)

			res := admin.uploadCSV("list.csv", importFixture, url.Values{"consent_source": {"old status page export, 2026"}})
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Import started")
			job := e.h.imports.find(strings.TrimPrefix(res.url.Path, "/console/subscribers/import/"))
			if job == nil {
				t.Fatalf("no job at %s", res.url)
			}
			// The job belongs to this console, not to the process: another
			// console in the same process knows nothing of it.
			other := newSubsEnv(t, d)
			other.signIn(gateway.RoleAdmin).get(res.url.Path).wantStatus(t, http.StatusNotFound)
			select {
			case <-job.finished:
			case <-time.After(time.Minute):
				t.Fatal("the import did not finish")
			}
			page := admin.get(res.url.Path)
			page.wantStatus(t, http.StatusOK)
			if page.header.Get("Refresh") != "" {
				t.Error("a finished import's page still refreshes")
			}
			for _, w := range []string{"Finished", `id="rows">7<`, `id="added">4<`, `id="existing">1<`, `id="invalid">2<`,
				"<td>5</td><td>email</td>", "<td>8</td><td>components</td>"} {
				page.wantContains(t, w)
			}
			// Reloading shows the report again and imports nothing twice.
			n := countRows(t, e.st, "SELECT COUNT(*) FROM subscribers")
			admin.get(res.url.Path).wantContains(t, `id="added">4<`)
			if again := countRows(t, e.st, "SELECT COUNT(*) FROM subscribers"); again != n || n != 4 {
				t.Errorf("subscribers %d, then %d after a reload; want 4", n, again)
			}
			e.wantAudit(t, "subscriber.import", admin.name)
			list := support.get("/console/subscribers?q=dana")
			list.wantContains(t, "Dana.Ortiz@example.com")
			list.wantContains(t, "API, Web")

			// Another person cannot read a job that does not exist, and a
			// forged upload (no token) is refused.
			admin.get("/console/subscribers/import/imp_nope").wantStatus(t, http.StatusNotFound)
			admin.post("/console/subscribers/import", nil).wantStatus(t, http.StatusForbidden)
		})
	}
}

func TestSubscriberListPages(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newSubsEnv(t, d)
			// Through the service, so created_at is stored as the store
			// stores it (the cursor compares it exactly).
			var csv strings.Builder
			csv.WriteString("email,components,confirmed\n")
			for i := range subscribersPage + 10 {
				fmt.Fprintf(&csv, "user%d@example.com,,true\n", i)
			}
			if _, err := e.svc.Import(context.Background(), gateway.Principal{Kind: "user", Name: "setup"}, strings.NewReader(csv.String()),
				subscribers.ImportOptions{ConsentSource: "fixture"}); err != nil {
				t.Fatal(err)
			}
			support := e.signIn(gateway.RoleSupport)
			seen := map[string]bool{}
			next, pages := "/console/subscribers?status=active", 0
			for next != "" {
				res := support.get(next)
				res.wantStatus(t, http.StatusOK)
				for _, m := range regexp.MustCompile(`user\d+@example\.com`).FindAllString(res.body, -1) {
					if seen[m] {
						t.Errorf("%s on two pages", m)
					}
					seen[m] = true
				}
				next = strings.ReplaceAll(between(res.body, `id="older" href="`, `"`), "&amp;", "&")
				if pages++; pages > 5 {
					t.Fatal("no last page")
				}
			}
			if len(seen) != subscribersPage+10 || pages != 2 {
				t.Errorf("%d subscribers on %d pages, want %d on 2", len(seen), pages, subscribersPage+10)
			}
		})
	}
}

// A webhook's URL is often its only secret (a Slack hook's path): the
// subscribers screens and the export show it to everyone but admins as
// scheme://host/…, as the API does.
func TestSubscribersScreensRedactWebhookURLs(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newSubsEnv(t, d)
			const hookURL = "https://93.184.216.34/services/T0/B0/s3cr3t"
			hook, err := e.svc.Subscribe(context.Background(), subscribers.SubscribeRequest{URL: hookURL, Format: "slack",
				All: true, Actor: gateway.Principal{Kind: "user", Name: "setup"}})
			if err != nil {
				t.Fatal(err)
			}
			admin, support := e.signIn(gateway.RoleAdmin), e.signIn(gateway.RoleSupport)
			for _, p := range []string{"/console/subscribers", "/console/subscribers/" + hook.ID,
				"/console/subscribers/" + hook.ID + "/erase", "/console/subscribers/export"} {
				res := support.get(p)
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, "https://93.184.216.34/…")
				if strings.Contains(res.body, "s3cr3t") {
					t.Errorf("%s shows a webhook's whole URL to support", p)
				}
				res = admin.get(p)
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, hookURL)
			}
			// Nor can a search spell the URL out, one guess at a time.
			if res := support.get("/console/subscribers?q=s3cr3t"); strings.Contains(res.body, hook.ID) {
				t.Error("support's search in webhook URLs found the hook")
			}
			admin.get("/console/subscribers?q=s3cr3t").wantContains(t, hook.ID)
		})
	}
}
