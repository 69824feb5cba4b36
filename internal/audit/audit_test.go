package audit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

func TestRecordAndVerify(t *testing.T) {
	store := storagetest.NewStore(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	log, err := audit.New(audit.Options{Store: store, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := log.Verify(ctx); n != 0 || err != nil {
		t.Fatalf("empty log: %d %v", n, err)
	}
	events := []audit.Event{
		{Type: audit.LoginFailed, ClientID: "intranet", Details: map[string]string{"reason": "invalid_credentials"}},
		{Type: audit.LoginSucceeded, PersonID: "p1", ClientID: "intranet", SessionID: "s1"},
		{Type: audit.RefreshTokenReuse, PersonID: "p1", ClientID: "intranet", Details: map[string]string{"family": "f1", "revoked": "3"}},
	}
	for _, e := range events {
		if err := log.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := store.ListAuditEvents(ctx, 0, 10)
	if err != nil || len(stored) != 3 {
		t.Fatalf("stored: %v %v", stored, err)
	}
	for i, e := range stored {
		if e.Seq != int64(i+1) || e.Type != events[i].Type || !e.At.Equal(at) {
			t.Errorf("event %d = %+v", i, e)
		}
		if i > 0 && e.PrevHash != stored[i-1].Hash {
			t.Errorf("event %d is not chained", e.Seq)
		}
	}
	if n, err := log.Verify(ctx); n != 3 || err != nil {
		t.Fatalf("verify: %d %v", n, err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		forged func(last storage.AuditEvent) storage.AuditEvent
	}{
		{"altered content keeps the old hash", func(last storage.AuditEvent) storage.AuditEvent {
			e := storage.AuditEvent{Seq: last.Seq + 1, At: last.At, Type: audit.LoginSucceeded, PrevHash: last.Hash}
			e.Hash = audit.Hash(e)
			e.PersonID = "someone-else" // changed after hashing
			return e
		}},
		{"broken link", func(last storage.AuditEvent) storage.AuditEvent {
			e := storage.AuditEvent{Seq: last.Seq + 1, At: last.At, Type: audit.LoginSucceeded, PrevHash: "0000"}
			e.Hash = audit.Hash(e)
			return e
		}},
		{"gap in the sequence", func(last storage.AuditEvent) storage.AuditEvent {
			e := storage.AuditEvent{Seq: last.Seq + 2, At: last.At, Type: audit.LoginSucceeded, PrevHash: last.Hash}
			e.Hash = audit.Hash(e)
			return e
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := storagetest.NewStore(t)
			ctx := context.Background()
			log, _ := audit.New(audit.Options{Store: store})
			for range 2 {
				if err := log.Record(ctx, audit.Event{Type: audit.LoginFailed}); err != nil {
					t.Fatal(err)
				}
			}
			last, err := store.LastAuditEvent(ctx)
			if err != nil {
				t.Fatal(err)
			}
			forged := tt.forged(last)
			if err := store.AppendAuditEvent(ctx, &forged); err != nil {
				t.Fatal(err)
			}
			n, err := log.Verify(ctx)
			if !errors.Is(err, audit.ErrTampered) || n != 2 {
				t.Errorf("verify = %d, %v; want 2 good events then ErrTampered", n, err)
			}
		})
	}
}

// TestConcurrentRecord: writers racing for the next sequence number all
// land, in one unbroken chain.
func TestConcurrentRecord(t *testing.T) {
	store := storagetest.NewStore(t)
	ctx := context.Background()
	const writers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		log, _ := audit.New(audit.Options{Store: store}) // one Log per "instance"
		wg.Go(func() {
			for range each {
				errs <- log.Record(ctx, audit.Event{Type: audit.LoginFailed})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	log, _ := audit.New(audit.Options{Store: store})
	if n, err := log.Verify(ctx); n != writers*each || err != nil {
		t.Errorf("verify = %d, %v; want %d", n, err, writers*each)
	}
}
