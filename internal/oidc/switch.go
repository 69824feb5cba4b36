package oidc

import (
	"net/http"
	"net/url"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// signedInAs tells the chooser and consent pages who is signed in, with
// « Changer de compte »: a link to the login page of the same pending
// request. Following it changes nothing; signing in there opens a new
// session, which ends this one (and tells its applications).
func (p *Provider) signedInAs(r *http.Request, sess storage.Session, req storage.AuthRequest) (*web.SignedIn, error) {
	person, err := p.store.GetPerson(r.Context(), sess.PersonID)
	if err != nil {
		return nil, err
	}
	return &web.SignedIn{Name: personName(person), SwitchURL: p.basePath + pathLogin + "?request=" + url.QueryEscape(req.ID)}, nil
}
