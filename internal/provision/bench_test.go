package provision_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/provision"
)

// csvRows returns a file of n new people, each with a membership.
func csvRows(n int) []byte {
	var b strings.Builder
	b.WriteString("identifiant;prenom;nom;courriel;qualite;service;fonction;debut\r\n")
	for i := range n {
		kind := "agent"
		if i%10 == 0 {
			kind = "elu"
		}
		fmt.Fprintf(&b, "agent.%05d;Prénom%d;Nom%d;agent.%05d@exemple.fr;%s;Service %d;\"Fonction ; %d\";2026-01-05\r\n", i, i, i, i, kind, i%40, i)
	}
	return []byte(b.String())
}

// BenchmarkImport10000 parses, plans and applies 10,000 new people with
// their memberships (20,000 audit events) into SQLite (or PostgreSQL
// with TNO_TEST_POSTGRES_DSN): one op is the whole import.
func BenchmarkImport10000(b *testing.B) {
	data := csvRows(10000)
	var plan, apply time.Duration
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b)
		b.StartTimer()
		t0 := time.Now()
		rows, err := provision.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		p, err := provision.Plan(f.ctx, f.st, f.admin, f.a.ID, rows)
		if err != nil || p.Create != 10000 {
			b.Fatal(err, p.Create, p.Errors)
		}
		t1 := time.Now()
		if _, err := provision.Apply(f.ctx, f.svc, f.admin, f.a.ID, p, nil); err != nil {
			b.Fatal(err)
		}
		plan += t1.Sub(t0)
		apply += time.Since(t1)
	}
	b.ReportMetric(float64(plan.Milliseconds())/float64(b.N), "plan-ms/op")
	b.ReportMetric(float64(apply.Milliseconds())/float64(b.N), "apply-ms/op")
}
