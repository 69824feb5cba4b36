package apps

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// TestServicePermissions: each use case checks the actor; a refused one
// changes nothing and records nothing; an accepted one records who did
// what, before and after, without the secret.
func TestServicePermissions(t *testing.T) {
	f := newServiceFixture(t)
	a := f.app(storage.ClientConfidential)
	if _, err := f.svc.Create(f.ctx, authz.CLI(), &a); err != nil {
		t.Fatal(err)
	}
	adminOwner := authz.Person("admin-owner", "192.0.2.1", []storage.AdminRole{{Role: storage.RoleOrgAdmin, OrgID: f.owner.ID}})
	adminOther := authz.Person("admin-other", "192.0.2.2", []storage.AdminRole{{Role: storage.RoleOrgAdmin, OrgID: f.granted.ID}})
	manager := authz.Person("manager", "192.0.2.3", []storage.AdminRole{{Role: storage.RoleAppManager, OrgID: f.owner.ID, AppID: a.ID}})
	helpdesk := authz.Person("helpdesk", "", []storage.AdminRole{{Role: storage.RoleOrgHelpdesk, OrgID: f.owner.ID}})
	events := func() int {
		evs, err := f.store.ListAuditEvents(f.ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	renamed := func(name string) *storage.Application {
		cur, err := f.store.GetApplication(f.ctx, f.owner.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		cur.Name = name
		return &cur
	}
	refused := []struct {
		name string
		do   func() error
	}{
		{"another organization's admin updates", func() error { _, err := f.svc.Update(f.ctx, adminOther, renamed("x")); return err }},
		{"another organization's admin rotates", func() error { _, err := f.svc.RotateSecret(f.ctx, adminOther, f.owner.ID, a.ID); return err }},
		{"another organization's admin deletes", func() error { return f.svc.Delete(f.ctx, adminOther, f.owner.ID, a.ID) }},
		{"another organization's admin creates for the owner", func() error {
			b := f.app(storage.ClientPublic)
			b.ClientID = "intrus"
			_, err := f.svc.Create(f.ctx, adminOther, &b)
			return err
		}},
		{"the helpdesk updates", func() error { _, err := f.svc.Update(f.ctx, helpdesk, renamed("x")); return err }},
		{"the manager widens the audience", func() error {
			b := renamed("x")
			b.GrantedOrgIDs = nil
			_, err := f.svc.Update(f.ctx, manager, b)
			return err
		}},
		{"the manager deletes", func() error { return f.svc.Delete(f.ctx, manager, f.owner.ID, a.ID) }},
	}
	before := events()
	stored, _ := f.store.GetApplication(f.ctx, f.owner.ID, a.ID)
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); !errors.Is(err, authz.ErrForbidden) {
				t.Errorf("err = %v, want ErrForbidden", err)
			}
		})
	}
	if after, _ := f.store.GetApplication(f.ctx, f.owner.ID, a.ID); after.Version != stored.Version || after.Name != stored.Name {
		t.Errorf("a refused use case changed the application: %+v", after)
	}
	if n := events(); n != before {
		t.Errorf("refused use cases recorded %d events", n-before)
	}

	// Allowed: the manager renames, the owner's admin rotates.
	if _, err := f.svc.Update(f.ctx, manager, renamed("Portail RH 2")); err != nil {
		t.Fatalf("manager update: %v", err)
	}
	if _, err := f.svc.RotateSecret(f.ctx, adminOwner, f.owner.ID, a.ID); err != nil {
		t.Fatalf("owner rotate: %v", err)
	}
	if list, err := f.svc.List(f.ctx, adminOther, f.owner.ID); !errors.Is(err, authz.ErrForbidden) || list != nil {
		t.Errorf("another organization lists the owner's applications: %v %v", list, err)
	}
	evs, err := f.store.QueryAuditEvents(f.ctx, storage.AuditQuery{OrgID: f.owner.ID, Limit: 2})
	if err != nil || len(evs) != 2 {
		t.Fatalf("events: %v %v", evs, err)
	}
	rot, upd := evs[0], evs[1]
	if upd.Type != "application_updated" || upd.ActorKind != "person" || upd.ActorID != "manager" || upd.Address != "192.0.2.3" ||
		upd.Target != "application:"+a.ID || upd.Before == "" || upd.After == "" {
		t.Errorf("update event = %+v", upd)
	}
	if rot.Type != "application_secret_rotated" || rot.ActorID != "admin-owner" {
		t.Errorf("rotate event = %+v", rot)
	}
	for _, e := range evs {
		cur, _ := f.store.GetApplication(f.ctx, f.owner.ID, a.ID)
		if strings.Contains(e.Before+e.After, cur.SecretHash[len("sha256:"):]) {
			t.Errorf("event %s holds the secret hash", e.Type)
		}
	}
}

// TestDeleteRevokesTokens: a removed application's tokens end with it, so
// that a new application given the same client_id inherits none.
func TestDeleteRevokesTokens(t *testing.T) {
	f := newServiceFixture(t)
	a := f.app(storage.ClientConfidential)
	if _, err := f.svc.Create(f.ctx, authz.CLI(), &a); err != nil {
		t.Fatal(err)
	}
	tok := storage.Token{Hash: "h", Kind: storage.TokenAccess, ClientID: a.ClientID, Scope: "openid",
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := f.store.CreateToken(f.ctx, &tok); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Delete(f.ctx, authz.CLI(), f.owner.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	again := f.app(storage.ClientConfidential)
	if _, err := f.svc.Create(f.ctx, authz.CLI(), &again); err != nil {
		t.Fatal(err)
	}
	if got, err := f.store.GetToken(f.ctx, "h"); err != nil || got.RevokedAt == nil {
		t.Errorf("the removed application's token = %+v, %v; want revoked", got, err)
	}
}
