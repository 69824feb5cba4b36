package authflow

import (
	"context"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/mail"
	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/web"
)

// The messages of « Mot de passe oublié », in the language of the page
// they were asked from (French unless it was English). Their texts are
// web messages (mail.*), so that translators find them with the pages'.

// recipient is the person's address with their name.
func recipient(p storage.Person) string {
	return (&netmail.Address{Name: personName(p), Address: p.Email}).String()
}

// mailText ends a body with the support's contact, if any, and the
// signature.
func (e *Engine) mailText(lang, body string) string {
	var b strings.Builder
	b.WriteString(body)
	b.WriteString("\n\n")
	if e.reset.support != "" {
		b.WriteString(web.T(lang, "mail.support", e.reset.support))
		b.WriteString("\n\n")
	}
	b.WriteString(web.T(lang, "mail.signature", e.reset.territory))
	b.WriteString("\n")
	return b.String()
}

// resetLinkMessage is the message with the link.
func (e *Engine) resetLinkMessage(lang string, p storage.Person, link string) mail.Message {
	body := web.T(lang, "mail.reset.body", personName(p), e.reset.territory, p.Username, e.resetMinutes(), link)
	return mail.Message{
		To: recipient(p), Lang: lang,
		Subject: web.T(lang, "mail.reset.subject", e.reset.territory),
		Text:    e.mailText(lang, body),
	}
}

// resetNoticeMessage tells the person their password was changed at at.
func (e *Engine) resetNoticeMessage(lang string, p storage.Person, at time.Time) mail.Message {
	body := web.T(lang, "mail.reset_notice.body", personName(p), e.reset.territory, p.Username, e.mailTime(lang, at))
	return mail.Message{
		To: recipient(p), Lang: lang,
		Subject: web.T(lang, "mail.reset_notice.subject", e.reset.territory),
		Text:    e.mailText(lang, body),
	}
}

// mailTime writes a time in words in the territory's zone: « 14 mars
// 2026 à 10:26 CET ».
func (e *Engine) mailTime(lang string, t time.Time) string {
	t = t.In(e.reset.zone)
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = web.T(lang, "common.first_day")
	}
	date := web.T(lang, "common.date", day, web.T(lang, "month."+strconv.Itoa(int(t.Month()))), t.Year())
	return web.T(lang, "mail.at", date, t.Format("15:04 MST"))
}

// InvitationURL is the link of an invitation token (the reset page).
func (e *Engine) InvitationURL(token string) string {
	return e.reset.issuer + PathReset + "?" + url.Values{web.FieldToken: {token}}.Encode()
}

// SendInvitation e-mails an invitation link to the person, in lang. It
// reports false, without error, when TNO sends no e-mail or the person
// has no address: the administrator hands the link over themselves.
func (e *Engine) SendInvitation(ctx context.Context, lang string, p storage.Person, link string, days int) (bool, error) {
	if e.reset == nil || e.reset.mail == nil || p.Email == "" {
		return false, nil
	}
	body := web.T(lang, "mail.invite.body", personName(p), e.reset.territory, p.Username, days, link)
	msg := mail.Message{To: recipient(p), Lang: lang, Subject: web.T(lang, "mail.invite.subject", e.reset.territory), Text: e.mailText(lang, body)}
	if err := e.reset.mail.Send(ctx, msg); err != nil {
		return false, err
	}
	return true, nil
}
