package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestScratchConcurrentBootstrap(t *testing.T) {
	for i := 0; i < 5; i++ {
		dir := t.TempDir()
		a1, a2 := freeAddr(t), freeAddr(t)
		var s1, s2 *serveProc
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); s1 = startServeNoFatal(t, dir, a1) }()
		go func() { defer wg.Done(); s2 = startServeNoFatal(t, dir, a2) }()
		wg.Wait()
		c := &cli{t: t, dir: dir}
		c.ok("org", "create", "--slug", "m", "--name", "M", "--siren", "200046977")
		c.ok("app", "create", "--org", "m", "--client-id", "x", "--name", "X", "--type", "public", "--redirect-uri", "http://127.0.0.1:9/cb")
		var pws []string
		for _, s := range []*serveProc{s1, s2} {
			if m := adminPasswordRE.FindStringSubmatch(s.stdout.String()); m != nil {
				pws = append(pws, m[1])
			}
		}
		issuer := s1.issuer
		ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
		prov, err := oidc.NewProvider(ctx, issuer)
		if err != nil {
			t.Fatal(err)
		}
		rp := oauth2.Config{ClientID: "x", RedirectURL: "http://127.0.0.1:9/cb", Endpoint: prov.Endpoint(), Scopes: []string{"openid"}}
		var res []int
		for _, pw := range pws {
			b := browser(issuer)
			id := startLogin(t, b, rp.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			resp, _ := submitLogin(t, b, issuer, id, "admin", pw)
			res = append(res, resp.StatusCode)
		}
		var jw struct{ Keys []map[string]any }
		getJSON(t, http.DefaultClient, issuer+"/jwks", &jw)
		t.Logf("round %d: %d passwords printed, login statuses %v (403=valid, 401=invalid); jwks keys %d", i, len(pws), res, len(jw.Keys))
		_ = strings.TrimSpace
		s1.stop()
		s2.stop()
	}
}

func startServeNoFatal(t *testing.T, dir, addr string) *serveProc { return startServe(t, dir, addr) }
