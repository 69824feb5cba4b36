package storagetest

import (
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func iconTests() []test {
	return []test{
		{"tile round-trips, icon set, replaced, removed, gone with its application", func(t *testing.T, f fixture) {
			o, other := f.org("a"), f.org("b")
			a := f.app(o.ID, "c")
			a.Tile = storage.AppTile{Description: "Paie des agents", Category: "Ressources humaines", LaunchURL: "https://paie.exemple.fr/"}
			must(t, f.s.UpdateApplication(f.ctx, &a))
			diff(t, a.Tile, get(f.s.GetApplication(f.ctx, o.ID, a.ID))(t).Tile)
			_, err := f.s.GetApplicationIcon(f.ctx, a.ID)
			wantErr(t, err, storage.ErrNotFound)
			icon := storage.AppIcon{ContentType: "image/png", Data: []byte{0x89, 'P', 'N', 'G'}, SHA256: "aa", UpdatedAt: t0}
			wantErr(t, f.s.SetApplicationIcon(f.ctx, other.ID, a.ID, icon), storage.ErrNotFound)
			must(t, f.s.SetApplicationIcon(f.ctx, o.ID, a.ID, icon))
			diff(t, icon, get(f.s.GetApplicationIcon(f.ctx, a.ID))(t))
			got := get(f.s.GetApplication(f.ctx, o.ID, a.ID))(t)
			diff(t, "aa", got.Tile.IconSHA256)
			diff(t, "Paie des agents", got.Tile.Description)
			icon.Data, icon.SHA256 = []byte{1, 2, 3}, "bb"
			must(t, f.s.SetApplicationIcon(f.ctx, o.ID, a.ID, icon))
			diff(t, icon, get(f.s.GetApplicationIcon(f.ctx, a.ID))(t))
			must(t, f.s.DeleteApplicationIcon(f.ctx, o.ID, a.ID))
			_, err = f.s.GetApplicationIcon(f.ctx, a.ID)
			wantErr(t, err, storage.ErrNotFound)
			diff(t, "", get(f.s.GetApplication(f.ctx, o.ID, a.ID))(t).Tile.IconSHA256)
			must(t, f.s.SetApplicationIcon(f.ctx, o.ID, a.ID, icon))
			must(t, f.s.DeleteApplication(f.ctx, o.ID, a.ID))
			_, err = f.s.GetApplicationIcon(f.ctx, a.ID)
			wantErr(t, err, storage.ErrNotFound)
		}},
	}
}
