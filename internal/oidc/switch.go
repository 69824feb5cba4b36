package oidc

import (
	"net/http"
	"net/url"

	"github.com/territoires-ouverts/tno/internal/logout"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// pathSwitch ends the session of whoever is signed in and takes the
// pending sign-in back to the login page: « Changer de compte ».
const pathSwitch = "/login/switch"

// signedInAs tells the chooser and consent pages who is signed in.
func (p *Provider) signedInAs(r *http.Request, sess storage.Session, req storage.AuthRequest) (*web.SignedIn, error) {
	person, err := p.store.GetPerson(r.Context(), sess.PersonID)
	if err != nil {
		return nil, err
	}
	return &web.SignedIn{Name: personName(person), Action: p.basePath + pathSwitch, RequestID: req.ID}, nil
}

// handleSwitchAccount signs the browser out (the applications of the
// session are told) and shows the login page of the same pending request,
// which someone else may now use. Only TNO's own pages can post it
// (cross-origin protection), and only the browser that started the
// request.
func (p *Provider) handleSwitchAccount(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.web.Render(w, r, http.StatusBadRequest, messagePage(http.StatusBadRequest, "error.title", "error.bad_request", ""))
		return
	}
	_, req, ok := p.loadRequest(w, r, r.PostForm.Get(web.FieldRequest))
	if !ok {
		return
	}
	p.endCurrentSession(r.Context(), w, r, logout.ReasonNewSignIn)
	http.Redirect(w, r, p.basePath+pathLogin+"?request="+url.QueryEscape(req.ID), http.StatusSeeOther)
}
