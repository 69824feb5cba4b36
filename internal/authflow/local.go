package authflow

import (
	"net/http"
	"strings"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// protocolLocal is the built-in front end of sign-ins to TNO's own pages
// (the person's account, later the portal and the console): the result
// is the session, and the browser goes back to the page that asked.
const protocolLocal = "local"

// StartLocal signs the browser in to TNO itself, then sends it back to
// returnTo, a path on TNO (anything else returns to the issuer's root).
// prompt may ask for a fresh sign-in (PromptLogin), to re-authenticate
// before a sensitive change.
func (e *Engine) StartLocal(w http.ResponseWriter, r *http.Request, returnTo string, prompt ...string) {
	if !localPath(returnTo) {
		returnTo = e.basePath + "/"
	}
	e.Start(w, r, Request{Protocol: protocolLocal, ProtocolRef: returnTo, Prompt: prompt})
}

// localPath accepts an absolute path on this host: "/x", never "//host"
// or "/\host" (which browsers read as another host).
func localPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "/\\") &&
		!strings.ContainsAny(p, "\r\n")
}

type localFrontend struct{ e *Engine }

func (f localFrontend) Complete(w http.ResponseWriter, r *http.Request, res Result) {
	to := res.SignIn.ProtocolRef
	if !localPath(to) {
		to = f.e.basePath + "/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (f localFrontend) Fail(w http.ResponseWriter, r *http.Request, _ storage.SignIn, fl Failure) {
	status := http.StatusForbidden
	f.e.web.Render(w, r, status, web.MessagePage{Status: status, TitleKey: "error.title", MessageKey: "error.generic", Detail: fl.Description})
}
