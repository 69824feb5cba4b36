package apps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/png"
	"strings"
	"unicode/utf8"

	"github.com/territoires-ouverts/tno/internal/audit"
	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// Limits of what the portal shows of an application.
const (
	MaxIconBytes       = 256 << 10 // 256 KiB
	MaxIconSide        = 1024      // pixels
	MaxDescriptionLen  = 300       // characters
	MaxCategoryLen     = 64
	iconPNG            = "image/png"
	pngSignature       = "\x89PNG\r\n\x1a\n"
	svgRefusedAdvice   = "SVG icons are refused (they can carry scripts): export the icon as a PNG"
	iconTooLargeAdvice = "at most %d KiB"
)

// validateTile checks the portal's fields of a.
func validateTile(t storage.AppTile, add func(name, format string, args ...any)) {
	if utf8.RuneCountInString(t.Description) > MaxDescriptionLen {
		add("description", "at most %d characters", MaxDescriptionLen)
	}
	if utf8.RuneCountInString(t.Category) > MaxCategoryLen {
		add("category", "at most %d characters", MaxCategoryLen)
	}
	if t.LaunchURL != "" {
		if err := checkURL("launch URL", t.LaunchURL); err != nil {
			add("launch_url", "%v", err)
		}
	}
}

// ValidateIcon checks an uploaded icon: a PNG image (its signature and
// header decoded, not only its name or declared type) of at most
// MaxIconBytes and MaxIconSide pixels a side. SVG is refused: it is a
// document that can carry scripts and links, and TNO does not sanitise
// it.
func ValidateIcon(data []byte) error {
	switch {
	case len(data) == 0:
		return field.New("icon", field.Required, "choose an image file")
	case len(data) > MaxIconBytes:
		return field.New("icon", field.TooLarge, iconTooLargeAdvice, MaxIconBytes>>10).With("value", fmt.Sprint(MaxIconBytes>>10))
	case looksLikeSVG(data):
		return field.New("icon", "svg", svgRefusedAdvice)
	case !bytes.HasPrefix(data, []byte(pngSignature)):
		return field.New("icon", "type", "the icon must be a PNG image")
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return field.New("icon", "type", "not a readable PNG image")
	}
	if cfg.Width > MaxIconSide || cfg.Height > MaxIconSide || cfg.Width < 16 || cfg.Height < 16 {
		return field.New("icon", "size", "the icon must measure between 16 and %d pixels a side, got %d×%d", MaxIconSide, cfg.Width, cfg.Height)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		return field.New("icon", "type", "not a readable PNG image")
	}
	return nil
}

func looksLikeSVG(data []byte) bool {
	head := strings.ToLower(string(data[:min(len(data), 512)]))
	return strings.Contains(head, "<svg") || strings.HasPrefix(strings.TrimSpace(head), "<?xml")
}

// SetIcon stores an application's icon, after ValidateIcon.
func (s *Service) SetIcon(ctx context.Context, actor authz.Actor, orgID, id string, data []byte) error {
	if err := authz.Check(actor, authz.AppsWrite, authz.App(orgID, id)); err != nil {
		return err
	}
	if err := ValidateIcon(data); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		cur, err := tx.GetApplication(ctx, orgID, id)
		if err != nil {
			return fmt.Errorf("application: %w", err)
		}
		if err := tx.SetApplicationIcon(ctx, orgID, id, storage.AppIcon{ContentType: iconPNG, Data: data,
			SHA256: hex.EncodeToString(sum[:]), UpdatedAt: s.now()}); err != nil {
			return err
		}
		after, err := tx.GetApplication(ctx, orgID, id)
		if err != nil {
			return err
		}
		return s.record(ctx, log, actor, audit.AppUpdated, &cur, &after, map[string]string{"icon": "set"})
	})
}

// RemoveIcon removes an application's icon.
func (s *Service) RemoveIcon(ctx context.Context, actor authz.Actor, orgID, id string) error {
	if err := authz.Check(actor, authz.AppsWrite, authz.App(orgID, id)); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Store, log *audit.Log) error {
		cur, err := tx.GetApplication(ctx, orgID, id)
		if err != nil {
			return fmt.Errorf("application: %w", err)
		}
		if err := tx.DeleteApplicationIcon(ctx, orgID, id); err != nil {
			return err
		}
		after, err := tx.GetApplication(ctx, orgID, id)
		if err != nil {
			return err
		}
		return s.record(ctx, log, actor, audit.AppUpdated, &cur, &after, map[string]string{"icon": "removed"})
	})
}
