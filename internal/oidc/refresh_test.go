package oidc

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func TestNarrowScope(t *testing.T) {
	const granted = "openid profile email offline_access"
	tests := []struct {
		name, requested, want string
		wantErr               bool
	}{
		{"absent: the granted scope", "", granted, false},
		{"blank: the granted scope", " \t", granted, false},
		{"same", granted, granted, false},
		{"narrower", "openid profile", "openid profile", false},
		{"reordered and repeated", "email openid email", "email openid", false},
		{"without openid", "email", "email", false},
		{"wider", "openid phone", "", true},
		{"unknown", "openid admin", "", true},
		{"prefix of a granted scope", "open", "", true},
		{"case differs", "OPENID", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, oe := narrowScope(granted, tt.requested)
			if (oe != nil) != tt.wantErr {
				t.Fatalf("narrowScope(%q) error = %v, want error %v", tt.requested, oe, tt.wantErr)
			}
			if oe != nil && oe.Code != "invalid_scope" {
				t.Errorf("error code = %q, want invalid_scope", oe.Code)
			}
			if got != tt.want {
				t.Errorf("narrowScope(%q) = %q, want %q", tt.requested, got, tt.want)
			}
		})
	}
}

// FuzzNarrowScope: a refresh never yields a scope outside the granted one.
func FuzzNarrowScope(f *testing.F) {
	f.Add("openid profile", "profile")
	f.Add("openid", "openid\x00")
	f.Add("openid offline_access", "offline_access\u00a0openid")
	f.Fuzz(func(t *testing.T, granted, requested string) {
		got, oe := narrowScope(granted, requested)
		if oe != nil {
			return
		}
		have := strings.Fields(granted)
		for _, s := range strings.Fields(got) {
			if !slices.Contains(have, s) {
				t.Fatalf("narrowScope(%q, %q) = %q: %q was not granted", granted, requested, got, s)
			}
		}
	})
}

func TestRefreshExpiry(t *testing.T) {
	p := &Provider{refreshTTL: 30 * 24 * time.Hour, familyTTL: 45 * 24 * time.Hour}
	auth := testNow
	tests := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"at the sign-in: the token lifetime", auth, auth.Add(30 * 24 * time.Hour)},
		{"before the cap", auth.Add(10 * 24 * time.Hour), auth.Add(40 * 24 * time.Hour)},
		{"capped by the family lifetime", auth.Add(20 * 24 * time.Hour), auth.Add(45 * 24 * time.Hour)},
		{"exactly at the cap", auth.Add(15 * 24 * time.Hour), auth.Add(45 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.refreshExpiry(tt.now, auth); !got.Equal(tt.want) {
				t.Errorf("refreshExpiry(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

// TestRefreshReusedLogs: a reuse revokes the family and logs a WARN event
// that names the client, person and family, never a token.
func TestRefreshReusedLogs(t *testing.T) {
	p, store, _ := newTestProvider(t, testIssuer)
	var buf bytes.Buffer
	p.log = slog.New(slog.NewJSONHandler(&buf, nil))
	ctx := t.Context()
	fam := []storage.Token{
		{Hash: "h-used", Kind: storage.TokenRefresh, UsedAt: &testNow},
		{Hash: "h-access", Kind: storage.TokenAccess},
		{Hash: "h-current", Kind: storage.TokenRefresh},
	}
	for i := range fam {
		fam[i].ClientID, fam[i].PersonID, fam[i].FamilyID = "portail-rh", "person-1", "family-1"
		fam[i].AuthTime, fam[i].ExpiresAt = testNow, testNow.Add(time.Hour)
		if err := store.CreateToken(ctx, &fam[i]); err != nil {
			t.Fatal(err)
		}
	}
	p.refreshReused(ctx, fam[0], testNow)
	for _, tok := range fam {
		got, err := store.GetToken(ctx, tok.Hash)
		if err != nil || got.RevokedAt == nil {
			t.Errorf("%s not revoked: %+v %v", tok.Hash, got, err)
		}
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log: %v: %s", err, buf.String())
	}
	for k, want := range map[string]any{
		"level": "WARN", "event": "refresh_token_reuse", "client_id": "portail-rh",
		"person_id": "person-1", "family_id": "family-1", "revoked": float64(3),
	} {
		if rec[k] != want {
			t.Errorf("log %s = %v, want %v", k, rec[k], want)
		}
	}
	if strings.Contains(buf.String(), "h-") {
		t.Errorf("log carries a token hash: %s", buf.String())
	}
}
