package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMailFile(t *testing.T) {
	secret := writeFile(t, "smtp-password", "s3cret pass \n")
	cfg := writeFile(t, "config.yaml", `mail:
  host: smtp.metropole-exemple.fr
  port: 587
  security: starttls
  username: tno@metropole-exemple.fr
  password_file: `+secret+`
  from: "Métropole Exemple <no-reply@metropole-exemple.fr>"
  helo_name: sso.metropole-exemple.fr
`)
	got, err := Load(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := want(func(c *Config) {
		c.Mail = Mail{
			Host: "smtp.metropole-exemple.fr", Port: 587, Security: MailStartTLS,
			Username: "tno@metropole-exemple.fr", PasswordFile: secret,
			From: "Métropole Exemple <no-reply@metropole-exemple.fr>", HeloName: "sso.metropole-exemple.fr",
			Password: "s3cret pass ", // the line break goes, the spaces stay
		}
	})
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if !got.Mail.Enabled() || Default().Mail.Enabled() {
		t.Error("Enabled: want true with a host, false by default")
	}

	t.Run("password file from the environment", func(t *testing.T) {
		got, err := Load("", []string{"TNO_MAIL_HOST=127.0.0.1", "TNO_MAIL_FROM=no-reply@example.fr",
			"TNO_MAIL_USERNAME=u", "TNO_MAIL_PASSWORD_FILE=" + secret})
		if err != nil {
			t.Fatal(err)
		}
		if got.Mail.Password != "s3cret pass " {
			t.Errorf("Password not read from %s", secret)
		}
	})
	t.Run("no password variable", func(t *testing.T) {
		_, err := Load("", []string{"TNO_MAIL_PASSWORD=x"})
		if err == nil || !strings.Contains(err.Error(), "unknown environment variable TNO_MAIL_PASSWORD") {
			t.Errorf("err = %v, want TNO_MAIL_PASSWORD refused (secrets come from files)", err)
		}
	})
}

func TestMailErrors(t *testing.T) {
	empty := writeFile(t, "empty", "\r\n")
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{
			name: "settings without a host",
			env:  []string{"TNO_MAIL_FROM=no-reply@example.fr", "TNO_MAIL_PORT=25"},
			want: []string{"mail.host: is required when mail.port, mail.from is set"},
		},
		{
			name: "every problem at once",
			env: []string{"TNO_MAIL_HOST=smtp.example.fr", "TNO_MAIL_SECURITY=ssl", "TNO_MAIL_PORT=70000",
				"TNO_MAIL_PASSWORD_FILE=" + empty},
			want: []string{
				`mail.security: "ssl" is not one of starttls, tls, none`,
				"mail.port: 70000 is out of range",
				"mail.from: is required when mail.host is set",
				"mail.username: is required when mail.password_file is set",
				"mail.password_file: " + empty + " is empty",
			},
		},
		{
			name: "unreadable password file",
			env:  []string{"TNO_MAIL_HOST=smtp.example.fr", "TNO_MAIL_FROM=a@example.fr", "TNO_MAIL_USERNAME=u", "TNO_MAIL_PASSWORD_FILE=/nonexistent/pw"},
			want: []string{"mail.password_file: open /nonexistent/pw"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", tt.env)
			if err == nil {
				t.Fatal("Load succeeded, want errors")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	m := Mail{Host: "smtp.example.fr", Username: "u", Password: "hunter2-s3cret"}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "mail", m, "password", m.Password)
	for _, s := range []string{fmt.Sprint(m), fmt.Sprintf("%+v", m), fmt.Sprintf("%#v", m), fmt.Sprintf("%s %q", m.Password, m.Password), logs.String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password printed: %s", s)
		}
	}
	if string(m.Password) != "hunter2-s3cret" {
		t.Error("the value itself must stay usable")
	}
	if Secret("").String() != "" {
		t.Error("an empty secret prints as empty")
	}
}
