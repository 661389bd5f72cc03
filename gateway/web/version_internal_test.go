package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// A cached page costs no query: the version read for the last answer is
// reused until this process writes or the version's age runs out. Two
// stores on one database stand for two replicas: a change through this
// replica's store shows on the next request, one through the other
// replica only once the version is older than maxAge.
func TestCachedPageSkipsTheVersionQueryUntilAWrite(t *testing.T) {
	for _, dialect := range storetest.Databases() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, dialect)
			here, other := storetest.OpenURL(t, url), storetest.OpenURL(t, url)
			if _, err := here.SyncConfig(ctx, store.Declaration{Components: []store.DeclaredComponent{{Name: "API"}}}); err != nil {
				t.Fatal(err)
			}
			ec := echo.New()
			h := Register(ec, Options{Page: gateway.PageInfo{Name: "Acme"}, Store: here,
				Log: storetest.Logger(t)})
			h.versions.maxAge = time.Hour // no expiry during the test
			get := func() (int, string) {
				rec := httptest.NewRecorder()
				ec.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v2/components.json", nil))
				return rec.Code, rec.Header().Get("ETag")
			}

			code, first := get()
			if code != http.StatusOK {
				t.Fatalf("GET = %d, want 200", code)
			}
			// Another replica renames the component: this one does not
			// read the version again yet.
			comp, err := other.Component(ctx, "API")
			if err != nil {
				t.Fatal(err)
			}
			comp.Description = "Changed elsewhere"
			if err := other.UpdateComponent(ctx, comp); err != nil {
				t.Fatal(err)
			}
			if _, etag := get(); etag != first {
				t.Errorf("ETag after another replica's write within maxAge = %s, want the cached %s", etag, first)
			}
			// Once the version is older than maxAge, the change shows.
			h.versions.maxAge = 0
			_, second := get()
			if second == first {
				t.Errorf("ETag after maxAge = %s, want a new one", second)
			}
			h.versions.maxAge = time.Hour
			// A write through this replica's store shows at once.
			comp.Description = "Changed here"
			if err := here.UpdateComponent(ctx, comp); err != nil {
				t.Fatal(err)
			}
			if _, third := get(); third == second || third == first {
				t.Errorf("ETag after this replica's write = %s, want a new one (had %s, %s)", third, first, second)
			}
		})
	}
}
