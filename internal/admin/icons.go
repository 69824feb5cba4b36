package admin

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// PathIcon serves an application's icon to anyone (the portal shows it
// to every person the application is offered to); the query carries the
// icon's hash, so that a new icon gets a new URL.
const PathIcon = "/apps/{id}/icon"

func (c *Console) iconRoutes() []route {
	return []route{
		{"POST /admin/orgs/{org}/apps/{id}/icon", c.iconUpload},
		{"POST /admin/orgs/{org}/apps/{id}/icon/remove", c.iconRemove},
	}
}

// IconURL is the URL of app's icon, "" if it has none.
func (c *Console) IconURL(app storage.Application) string {
	if app.Tile.IconSHA256 == "" {
		return ""
	}
	return c.base + "/apps/" + url.PathEscape(app.ID) + "/icon?v=" + app.Tile.IconSHA256[:16]
}

// serveIcon answers GET PathIcon: the stored PNG, checked at upload,
// with a sandboxing policy and a long cache (its URL changes with it).
func (c *Console) serveIcon(w http.ResponseWriter, r *http.Request) {
	icon, err := c.store.GetApplicationIcon(r.Context(), r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		c.log.ErrorContext(r.Context(), "serve icon", "err", err)
		http.Error(w, "500", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", icon.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(icon.Data)))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+icon.SHA256+`"`)
	if r.Header.Get("If-None-Match") == `"`+icon.SHA256+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(icon.Data) //nolint:errcheck // the client went away
}

// iconUpload stores the uploaded icon (multipart field "icon").
func (c *Console) iconUpload(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, app, err := c.app(r, a)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.AppsWrite, authz.App(o.ID, app.ID)); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, apps.MaxIconBytes+64<<10)
	var data []byte
	err = r.ParseMultipartForm(apps.MaxIconBytes + 64<<10)
	if err == nil {
		file, _, ferr := r.FormFile("icon")
		switch {
		case errors.Is(ferr, http.ErrMissingFile):
		case ferr != nil:
			err = ferr
		default:
			data, err = io.ReadAll(io.LimitReader(file, apps.MaxIconBytes+1))
			file.Close()
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || len(data) > apps.MaxIconBytes:
		err = field.New("icon", field.TooLarge, "at most %d KiB", apps.MaxIconBytes>>10)
	case err != nil:
		return errors.Join(errBadRequest, err)
	default:
		err = c.apps.SetIcon(r.Context(), a, o.ID, app.ID, data)
	}
	if err != nil {
		if !field.Is(err) {
			return err
		}
		orgs, oerr := c.orgDirectory(r.Context(), a, o)
		if oerr != nil {
			return oerr
		}
		f := c.appForm(r, o, app, c.appFormOptions(a, o, orgs), c.appPath(o, app), "admin.save")
		return c.showAppIcon(w, r, a, o, app, orgs, f, c.fieldMessage(r, field.List(err)[0]))
	}
	done(w, r, c.appPath(o, app), "updated")
	return nil
}

func (c *Console) iconRemove(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	o, app, err := c.app(r, a)
	if err != nil {
		return err
	}
	if err := c.apps.RemoveIcon(r.Context(), a, o.ID, app.ID); err != nil {
		return err
	}
	done(w, r, c.appPath(o, app), "updated")
	return nil
}
