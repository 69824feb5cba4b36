package authflow

import (
	"context"
	"net/http"
	"time"

	"github.com/territoires-ouverts/tno/internal/mail"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// Security notices: a person is told by e-mail, through the same sender
// as « Mot de passe oublié », when their account's security changes (a
// second factor turned on or off, new recovery codes, a password
// changed), so that a change they did not make does not go unnoticed.
// Nothing is sent without a mail server or an address; sending happens
// after the answer and its failure is only logged.

// Events of a security notice (message keys notice.*).
const (
	noticeTOTPEnrolled    = "notice.totp_enrolled"
	noticePasskeyEnrolled = "notice.passkey_enrolled"
	noticeFactorRemoved   = "notice.factor_removed"
	noticeRecoveryRenewed = "notice.recovery_renewed"
	noticePasswordChanged = "notice.password_changed"
)

// notify queues the security notice of event for person.
func (e *Engine) notify(r *http.Request, person storage.Person, event string) {
	if e.reset == nil || e.reset.mail == nil || person.Email == "" {
		return
	}
	lang := web.Lang(r)
	at := e.now()
	e.later(r.Context(), func(ctx context.Context) {
		if err := e.reset.mail.Send(ctx, e.noticeMessage(lang, person, event, at)); err != nil {
			e.log.WarnContext(ctx, "security notice not sent", "person_id", person.ID, "event", event, "err", err)
		}
	})
}

func (e *Engine) noticeMessage(lang string, p storage.Person, event string, at time.Time) mail.Message {
	body := web.T(lang, "mail.notice.body", personName(p), e.reset.territory, p.Username, e.mailTime(lang, at), web.T(lang, event))
	return mail.Message{
		To: recipient(p), Lang: lang,
		Subject: web.T(lang, "mail.notice.subject", e.reset.territory),
		Text:    e.mailText(lang, body),
	}
}
