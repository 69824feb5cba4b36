package server

import (
	"fmt"

	"github.com/territoires-ouverts/tno/internal/admin"
	"github.com/territoires-ouverts/tno/internal/config"
)

// settings are the deployment settings the console shows the platform,
// read-only: never a secret (a DSN's password, the mail password).
func settings(cfg config.Config) []admin.Setting {
	dsn := "(" + cfg.Database.Driver + ")"
	if cfg.Database.Driver == config.DriverSQLite {
		dsn = cfg.Database.DSN
	}
	mail := "—"
	if cfg.Mail.Enabled() {
		mail = fmt.Sprintf("%s:%d (%s), %s", cfg.Mail.Host, cfg.Mail.Port, cfg.Mail.Security, cfg.Mail.From)
	}
	return []admin.Setting{
		{Name: "issuer", Value: cfg.Issuer},
		{Name: "listen", Value: cfg.Listen},
		{Name: "database.driver", Value: cfg.Database.Driver},
		{Name: "database.dsn", Value: dsn},
		{Name: "signing.algorithm", Value: cfg.Signing.Algorithm},
		{Name: "session.lifetime", Value: cfg.Session.Lifetime.Std().String()},
		{Name: "session.idle_timeout", Value: cfg.Session.IdleTimeout.Std().String()},
		{Name: "tokens.access_token", Value: cfg.Tokens.AccessToken.Std().String()},
		{Name: "tokens.refresh_token", Value: cfg.Tokens.RefreshToken.Std().String()},
		{Name: "password.memory_kib", Value: fmt.Sprint(cfg.Password.MemoryKiB)},
		{Name: "mail", Value: mail},
		{Name: "trusted_proxies", Value: cfg.TrustedProxies},
		{Name: "territory.name", Value: cfg.Territory.Name},
	}
}
