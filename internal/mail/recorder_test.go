package mail

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestRecorder(t *testing.T) {
	var r Recorder
	if _, ok := r.Last(); ok {
		t.Error("Last on an empty recorder")
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			m := Message{To: fmt.Sprintf("agent%d@ville.fr", i), Subject: "Invitation à rejoindre « Territoire »", Text: "Bonjour"}
			if err := r.Send(t.Context(), m); err != nil {
				t.Error(err)
			}
			r.Messages()
			r.Last()
		})
	}
	wg.Wait()
	msgs := r.Messages()
	if len(msgs) != 20 {
		t.Fatalf("%d messages, want 20", len(msgs))
	}
	last, ok := r.Last()
	if !ok || last != msgs[19] {
		t.Errorf("Last = %v, %v; want %v", last, ok, msgs[19])
	}
	msgs[0].To = "changed@ville.fr"
	if r.Messages()[0].To == "changed@ville.fr" {
		t.Error("Messages returns the recorder's own slice")
	}

	down := errors.New("server down")
	r.Fail(down)
	if err := r.Send(t.Context(), last); !errors.Is(err, down) {
		t.Errorf("Send after Fail = %v", err)
	}
	r.Fail(nil)
	r.Reset()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.Send(ctx, last); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a canceled context = %v", err)
	}
	if err := r.Send(t.Context(), Message{To: "a@ville.fr", Subject: "x\r\nBcc: b@example.org", Text: "y"}); !errors.Is(err, ErrHeaderInjection) {
		t.Errorf("Send with an injection = %v", err)
	}
	if n := len(r.Messages()); n != 0 {
		t.Errorf("%d messages recorded after Reset and refusals", n)
	}
}
