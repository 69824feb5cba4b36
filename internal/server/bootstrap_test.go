package server_test

import (
	"context"
	"sync"
	"testing"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/server"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// TestBootstrapConcurrent: several instances starting together on one
// empty database create exactly one administrator, and the one password
// printed is the one that works.
func TestBootstrapConcurrent(t *testing.T) {
	store := storagetest.NewStore(t)
	params := local.TestParams()
	const n = 4
	results := make([]server.BootstrapResult, n)
	errs := make([]error, n)
	srvs := make([]*server.Server, n)
	for i := range srvs {
		s, err := server.New(server.Options{Config: config.Default(), Store: store, PasswordParams: &params})
		if err != nil {
			t.Fatal(err)
		}
		srvs[i] = s
	}
	var wg sync.WaitGroup
	for i := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = srvs[i].Bootstrap(context.Background())
		}()
	}
	wg.Wait()
	var printed []string
	for i := range results {
		if errs[i] != nil {
			t.Errorf("instance %d: %v", i, errs[i])
		}
		if results[i].AdminPassword != "" {
			printed = append(printed, results[i].AdminPassword)
		}
	}
	if len(printed) != 1 {
		t.Fatalf("%d administrator passwords printed, want 1", len(printed))
	}
	if c, err := store.CountRole(context.Background(), storage.RolePlatformAdmin); err != nil || c != 1 {
		t.Fatalf("platform administrators = %d (%v), want 1", c, err)
	}
	admin, err := srvs[0].Local.Authenticate(context.Background(), "admin", printed[0])
	if err != nil {
		t.Errorf("the printed password does not sign in: %v", err)
	}
	if must, err := srvs[0].Local.PasswordChangeRequired(context.Background(), admin.ID); err != nil || !must {
		t.Errorf("the administrator need not change the generated password (%v, %v)", must, err)
	}
	// A later start creates nothing.
	res, err := srvs[0].Bootstrap(context.Background())
	if err != nil || res.AdminPassword != "" || res.KeyCreated {
		t.Errorf("second bootstrap: %+v %v", res, err)
	}
}
