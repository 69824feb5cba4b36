package audit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	// Each forger appends one event through the store, sealing it
	// wrongly: the two events before it still verify.
	tests := []struct {
		name string
		seal func(e *storage.AuditEvent)
	}{
		{"altered content keeps the old hash", func(e *storage.AuditEvent) {
			e.Hash = audit.Hash(*e)
			e.PersonID = "someone-else" // changed after hashing
		}},
		{"broken link", func(e *storage.AuditEvent) {
			e.PrevHash = "0000"
			e.Hash = audit.Hash(*e)
		}},
		{"gap in the sequence", func(e *storage.AuditEvent) {
			e.Seq++
			e.Hash = audit.Hash(*e)
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
			forged := storage.AuditEvent{At: time.Now(), Type: audit.LoginSucceeded}
			if err := store.AppendAuditEvent(ctx, &forged, tt.seal); err != nil {
				t.Fatal(err)
			}
			n, err := log.Verify(ctx)
			if !errors.Is(err, audit.ErrTampered) || n != 2 {
				t.Errorf("verify = %d, %v; want 2 good events then ErrTampered", n, err)
			}
		})
	}
}

// TestHashOfEarlierEvents: an event without administration fields hashes
// as it did before they existed, so that logs written by earlier versions
// still verify.
func TestHashOfEarlierEvents(t *testing.T) {
	e := storage.AuditEvent{Seq: 7, At: time.UnixMicro(1764403200000000), Type: audit.LoginFailed, OrgID: "o",
		PersonID: "p", ClientID: "c", SessionID: "s", Details: map[string]string{"reason": "x"}, PrevHash: "ab"}
	old, _ := json.Marshal(struct {
		Seq       int64             `json:"seq"`
		At        int64             `json:"at"`
		Type      string            `json:"type"`
		OrgID     string            `json:"org"`
		PersonID  string            `json:"person"`
		ClientID  string            `json:"client"`
		SessionID string            `json:"session"`
		Details   map[string]string `json:"details"`
		PrevHash  string            `json:"prev"`
	}{7, 1764403200000000, e.Type, "o", "p", "c", "s", e.Details, "ab"})
	sum := sha256.Sum256(old)
	if got, want := audit.Hash(e), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("hash = %s, want the earlier form %s", got, want)
	}
	e.ActorKind, e.Target, e.After = "person", "person:p", `{"a":1}`
	if audit.Hash(e) == hex.EncodeToString(sum[:]) {
		t.Error("administration fields are not covered by the hash")
	}
}

// TestConcurrentRecord: writers racing for the next sequence number all
// land, in one unbroken chain: none gives up, however many there are.
func TestConcurrentRecord(t *testing.T) {
	store := storagetest.NewStore(t)
	ctx := context.Background()
	const writers, each = 16, 25
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
