package mail

import (
	"context"
	"slices"
	"sync"
)

// Recorder is a Sender for tests: it keeps the messages it is given
// instead of sending them. It refuses the messages SMTP would refuse
// (ErrInvalidMessage), so a caller's test catches a bad address or a
// header injection. The zero value is ready; it is safe for concurrent
// use.
type Recorder struct {
	mu   sync.Mutex
	msgs []Message
	err  error
}

var _ Sender = (*Recorder)(nil)

// Send records m, unless ctx is done, m is invalid, or Fail set an error.
func (r *Recorder) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := checkMessage(m); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.msgs = append(r.msgs, m)
	return nil
}

// Messages returns the recorded messages, oldest first.
func (r *Recorder) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// Last returns the latest recorded message; false when there is none.
func (r *Recorder) Last() (Message, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) == 0 {
		return Message{}, false
	}
	return r.msgs[len(r.msgs)-1], true
}

// Fail makes every later Send return err without recording anything, as
// an unreachable server would; Fail(nil) restores success.
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// Reset forgets the recorded messages.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = nil
}
