package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/admin"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/server"
	"github.com/territoires-ouverts/tno/internal/session"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// signedIn is the sign-in engine as the console sees it, with one
// platform administrator signed in with a second factor.
type signedIn struct{ personID string }

func (s signedIn) Session(http.ResponseWriter, *http.Request) (storage.Session, bool, error) {
	return storage.Session{PersonID: s.personID, ACR: session.ACREidas2}, true, nil
}
func (signedIn) StartLocal(w http.ResponseWriter, _ *http.Request, _ string, _ ...string) {
	w.WriteHeader(http.StatusUnauthorized)
}

// BenchmarkConsolePages measures the console's pages on a territory
// seeded by cmd/tno-seed (100,000 people, 500 organizations, 2,000
// applications):
//
//	go run ./cmd/tno-seed -database-dsn /tmp/seed-bench/tno.db -people 100000 -orgs 500 -apps 2000
//	TNO_BENCH_DSN=/tmp/seed-bench/tno.db go test -run '^$' -bench ConsolePages -benchtime 200x ./internal/admin
//
// (a postgres:// DSN measures PostgreSQL). Each sub-benchmark reports
// its p50 and p99 in milliseconds, as the platform administrator.
func BenchmarkConsolePages(b *testing.B) {
	dsn := os.Getenv("TNO_BENCH_DSN")
	if dsn == "" {
		b.Skip("TNO_BENCH_DSN names a database seeded by cmd/tno-seed")
	}
	ctx := context.Background()
	db := config.Database{Driver: config.DriverSQLite, DSN: dsn}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.Driver = config.DriverPostgres
	}
	st, err := server.OpenStore(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	core, err := server.NewCore(server.CoreOptions{Config: cfg, Store: st})
	if err != nil {
		b.Fatal(err)
	}
	adminP, err := st.GetPersonByUsername(ctx, "admin")
	if err != nil {
		b.Fatal("the seeded platform administrator: ", err)
	}
	r, err := web.New(web.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c, err := admin.New(admin.Options{Renderer: r, Auth: signedIn{adminP.ID}, Store: st, Territory: core.Territory, Apps: core.Apps, Keys: core.Keys})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	metro, err := st.GetOrganizationBySlug(ctx, "metropole")
	if err != nil {
		b.Fatal(err)
	}
	people, err := st.ListPeopleInOrganization(ctx, metro.ID)
	if err != nil || len(people) == 0 {
		b.Fatal(err)
	}
	pages := []struct{ name, path string }{
		{"home", "/admin"},
		{"organizations", "/admin/orgs"},
		{"organizations_search", "/admin/orgs?q=saint"},
		{"metropole", "/admin/orgs/metropole"},
		{"metropole_people", "/admin/orgs/metropole/people"},
		{"metropole_people_page_100", "/admin/orgs/metropole/people?page=100"},
		{"metropole_people_search", "/admin/orgs/metropole/people?q=martin"},
		{"metropole_person", "/admin/orgs/metropole/people/" + people[len(people)/2].ID},
		{"metropole_apps", "/admin/orgs/metropole/apps"},
		{"commune_people", "/admin/orgs/commune-010/people"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				w := httptest.NewRecorder()
				start := time.Now()
				mux.ServeHTTP(w, req)
				times = append(times, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d\n%.300s", p.path, w.Code, w.Body.String())
				}
			}
			slices.Sort(times)
			q := func(f float64) float64 { return float64(times[int(f*float64(len(times)-1))].Microseconds()) / 1000 }
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		})
	}
}
