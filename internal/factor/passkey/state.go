package passkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

// ceremony names what a state was made for, so that a state is only
// finished by the matching method.
type ceremony string

const (
	ceremonyRegistration ceremony = "registration"
	ceremonyLogin        ceremony = "login"
	ceremonyDiscoverable ceremony = "discoverable"
)

// stateVersion is the version of the state encoding.
const stateVersion = 1

// state is what Begin hands the caller to keep server-side: the library's
// session data (challenge, user handle, allowed credentials, user
// verification, algorithms) and the expiry by the injected clock. It is
// not authenticated: it must never travel through the browser.
type state struct {
	V        int                  `json:"v"`
	Ceremony ceremony             `json:"ceremony"`
	Expires  time.Time            `json:"expires"`
	Session  webauthn.SessionData `json:"session"`
}

func (s *Service) encodeState(c ceremony, sd *webauthn.SessionData) ([]byte, error) {
	return json.Marshal(state{
		V:        stateVersion,
		Ceremony: c,
		Expires:  s.now().Add(s.timeout),
		Session:  *sd,
	})
}

// decodeState reads a state made for ceremony c and checks that it has
// not expired.
func (s *Service) decodeState(b []byte, c ceremony) (webauthn.SessionData, error) {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return webauthn.SessionData{}, fail(ErrState, "undecodable")
	}
	switch {
	case st.V != stateVersion:
		return webauthn.SessionData{}, fail(ErrState, "unknown version")
	case st.Ceremony != c:
		return webauthn.SessionData{}, fail(ErrState, fmt.Sprintf("made for %q, used for %q", st.Ceremony, c))
	case st.Session.Challenge == "":
		return webauthn.SessionData{}, fail(ErrState, "no challenge")
	case !s.now().Before(st.Expires):
		return webauthn.SessionData{}, fail(ErrExpired, "state expired at "+st.Expires.UTC().Format(time.RFC3339))
	}
	return st.Session, nil
}

// checkStateUser reports whether the state was made for u.
func checkStateUser(sd webauthn.SessionData, u User) error {
	if !bytes.Equal(sd.UserID, u.Handle) {
		return fail(ErrState, "made for another user")
	}
	return nil
}
