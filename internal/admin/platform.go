package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/territory"
)

// platformRoutes lists the platform's own pages: the signing keys and
// the deployment settings.
func (c *Console) platformRoutes() []route {
	return []route{
		{"GET /admin/keys", c.keysList},
		{"POST /admin/keys/rotate", c.keysRotate},
		{"GET /admin/settings", c.settingsShow},
	}
}

// The rotation's defaults, those of tno keys rotate: the new key is
// published 10 minutes before it signs (relying parties caching the JWKS
// see it first), and the old ones stay published 24 hours after, longer
// than the tokens they signed live.
const (
	rotatePublishDelay = 10 * time.Minute
	rotateKeep         = 24 * time.Hour
)

// keyRow is one signing key, without its private part.
type keyRow struct {
	ID, Algorithm, State   string
	Created, Active        string
	Retired, Expires       string
	CreatedISO, ActiveISO  string
	RetiredISO, ExpiresISO string
	Signing, Gone          bool
}

type keysPage struct {
	Frame        frame
	Keys         []keyRow
	Hidden       int    // expired keys not shown
	All          string // link showing them
	ShowAll      bool
	Rotate       string
	NoSigning    bool
	PublishDelay int // minutes
	Keep         int // hours
}

func (c *Console) keysList(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if err := authz.Check(a, authz.KeysRotate, authz.Platform); err != nil {
		return err
	}
	if c.keys == nil {
		return errors.New("admin: no key manager")
	}
	infos, err := c.keys.List(r.Context())
	if err != nil {
		return err
	}
	page := keysPage{Frame: c.newFrame(r, a, nil, "keys"), Rotate: c.path("/admin/keys/rotate"), All: c.path("/admin/keys") + "?all=1",
		ShowAll: r.URL.Query().Get("all") == "1", PublishDelay: int(rotatePublishDelay / time.Minute), Keep: int(rotateKeep / time.Hour),
		NoSigning: !slices.ContainsFunc(infos, func(in keys.Info) bool { return in.State == keys.StateSigning })}
	for i := len(infos) - 1; i >= 0; i-- { // newest first
		in := infos[i]
		if in.State == keys.StateExpired && !page.ShowAll {
			page.Hidden++
			continue
		}
		row := keyRow{ID: in.ID, Algorithm: in.Algorithm, State: in.State,
			Created: auditDateTime(r, in.CreatedAt), CreatedISO: in.CreatedAt.UTC().Format(time.RFC3339),
			Active: auditDateTime(r, in.ActiveAt), ActiveISO: in.ActiveAt.UTC().Format(time.RFC3339),
			Signing: in.State == keys.StateSigning, Gone: in.State == keys.StateExpired || in.State == keys.StateUnusable}
		if in.RetiredAt != nil {
			row.Retired, row.RetiredISO = auditDateTime(r, *in.RetiredAt), in.RetiredAt.UTC().Format(time.RFC3339)
		}
		if in.ExpiresAt != nil {
			row.Expires, row.ExpiresISO = auditDateTime(r, *in.ExpiresAt), in.ExpiresAt.UTC().Format(time.RFC3339)
		}
		page.Keys = append(page.Keys, row)
	}
	c.render(w, r, http.StatusOK, "keys", "admin.platform.keys_title", nil, page)
	return nil
}

// rotatedKey is the new key as the audit log keeps it: no private part.
type rotatedKey struct {
	KID      string    `json:"kid"`
	Alg      string    `json:"alg"`
	ActiveAt time.Time `json:"active_at"`
}

// keysRotate creates a key with the CLI's defaults (signing at once when
// no key signs now) and records the rotation in the audit log.
func (c *Console) keysRotate(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	ctx := r.Context()
	if err := authz.Check(a, authz.KeysRotate, authz.Platform); err != nil {
		return err
	}
	if c.keys == nil {
		return errors.New("admin: no key manager")
	}
	before, err := c.keys.List(ctx)
	if err != nil {
		return err
	}
	delay := rotatePublishDelay
	if !slices.ContainsFunc(before, func(in keys.Info) bool { return in.State == keys.StateSigning }) {
		delay = 0 // a new installation: nothing to announce the key to
	}
	if err := c.keys.Rotate(ctx, delay, rotateKeep); err != nil {
		return err
	}
	after, err := c.keys.List(ctx)
	if err != nil {
		return err
	}
	old := make(map[string]keys.Info, len(before))
	for _, in := range before {
		old[in.ID] = in
	}
	var created *keys.Info
	var retired []string
	for i, in := range after {
		prev, existed := old[in.ID]
		switch {
		case !existed:
			created = &after[i]
		case in.RetiredAt != nil && (prev.RetiredAt == nil || !prev.RetiredAt.Equal(*in.RetiredAt)):
			retired = append(retired, in.ID)
		}
	}
	change := territory.Change{Type: signingKeyRotated, Details: map[string]string{
		"publish_delay": delay.String(), "keep": rotateKeep.String()}}
	if created != nil {
		change.Target = "signing_key:" + created.ID
		change.After = rotatedKey{KID: created.ID, Alg: created.Algorithm, ActiveAt: created.ActiveAt.UTC()}
	}
	if len(retired) > 0 {
		change.Details["retired"] = strings.Join(retired, " ")
	}
	// The console has no audit log of its own (Options carries none): it
	// writes through one on its store, as every use case's does.
	log, err := audit.New(audit.Options{Store: c.store, Now: c.now, Logger: c.log})
	if err != nil {
		return err
	}
	if err := territory.Record(ctx, log, a, change); err != nil {
		return err
	}
	done(w, r, c.path("/admin/keys"), "rotated")
	return nil
}

type settingRow struct {
	Name, Label, Value string
}

type settingsPage struct {
	Frame    frame
	Settings []settingRow
	Admins   string // the platform administrators' page
}

// settingsShow lists the deployment settings, read-only: they come from
// the configuration file and the environment.
func (c *Console) settingsShow(w http.ResponseWriter, r *http.Request, a authz.Actor) error {
	if err := authz.Check(a, authz.PlatformRead, authz.Platform); err != nil {
		return err
	}
	page := settingsPage{Frame: c.newFrame(r, a, nil, "settings"), Admins: c.path("/admin/platform/admins")}
	for _, s := range c.settings {
		label := s.Name
		if t := c.T(r, "admin.platform.setting."+s.Name); t != "admin.platform.setting."+s.Name {
			label = t
		}
		page.Settings = append(page.Settings, settingRow{Name: s.Name, Label: label, Value: redactURL(s.Value)})
	}
	c.render(w, r, http.StatusOK, "settings", "admin.platform.settings_title", nil, page)
	return nil
}

// redactURL hides the password of a URL with credentials
// (postgres://user:secret@host/db), should one reach the settings.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") {
			return "(…)" // cannot tell which part is secret
		}
		return s
	}
	if u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return s
	}
	u.User = url.UserPassword(u.User.Username(), "xxxxx")
	return u.String()
}
