package mail

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one e-mail to one person.
type Message struct {
	// To is the recipient, an RFC 5322 address with an optional display
	// name: "Camille Martin <camille.martin@ville.fr>".
	To string
	// Subject is required; any UTF-8 text without control characters.
	Subject string
	// Text is the plain-text body, required; line breaks may be \n or
	// \r\n.
	Text string
	// HTML is an optional HTML rendering of Text; with it the message is
	// multipart/alternative.
	HTML string
	// Lang is the BCP 47 language of the message ("fr", "en"), sent as
	// Content-Language; optional.
	Lang string
}

// maxLineLen is the line length RFC 5322 section 2.1.1 asks headers to
// keep within where they can.
const maxLineLen = 78

// envelope is a composed message ready for SMTP.
type envelope struct {
	from, to string // addr-specs for MAIL FROM and RCPT TO
	data     []byte // the message, CRLF line endings
}

// checkMessage reports the first reason m cannot be sent, wrapping
// ErrInvalidMessage, and returns its parsed recipient.
func checkMessage(m Message) (*mail.Address, error) {
	invalid := func(field string, err error) error {
		return fmt.Errorf("mail: %w: %s: %w", ErrInvalidMessage, field, err)
	}
	to, err := parseAddress(m.To)
	if err != nil {
		return nil, invalid("to", err)
	}
	switch {
	case strings.ContainsAny(m.Subject, "\r\n"):
		return nil, invalid("subject", ErrHeaderInjection)
	case strings.TrimSpace(m.Subject) == "":
		return nil, invalid("subject", fmt.Errorf("is required"))
	case !utf8.ValidString(m.Subject):
		return nil, invalid("subject", fmt.Errorf("is not UTF-8"))
	case strings.ContainsFunc(m.Subject, isControl):
		return nil, invalid("subject", fmt.Errorf("holds a control character"))
	}
	switch {
	case strings.TrimSpace(m.Text) == "":
		return nil, invalid("text", fmt.Errorf("is required"))
	case !utf8.ValidString(m.Text):
		return nil, invalid("text", fmt.Errorf("is not UTF-8"))
	case !utf8.ValidString(m.HTML):
		return nil, invalid("html", fmt.Errorf("is not UTF-8"))
	}
	if strings.ContainsAny(m.Lang, "\r\n") {
		return nil, invalid("lang", ErrHeaderInjection)
	}
	if m.Lang != "" && !isLanguageTag(m.Lang) {
		return nil, invalid("lang", fmt.Errorf("%q is not a language tag", m.Lang))
	}
	return to, nil
}

// compose checks m and renders it from the sender from, dated now, with
// id (dot-atom text, unique per message) as the left part of its
// Message-ID and in its MIME boundary.
func compose(from *mail.Address, m Message, now time.Time, id string) (envelope, error) {
	to, err := checkMessage(m)
	if err != nil {
		return envelope{}, err
	}
	var b bytes.Buffer
	header := func(name, value string) { writeHeader(&b, name, value) }
	header("Date", now.Format(time.RFC1123Z))
	header("From", formatAddress(from))
	header("To", formatAddress(to))
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Message-ID", "<"+id+"@"+domainOf(from.Address)+">")
	header("MIME-Version", "1.0")
	if m.Lang != "" {
		header("Content-Language", m.Lang)
	}
	// RFC 3834: tells vacation responders and mailing lists not to answer.
	header("Auto-Submitted", "auto-generated")
	// The same for Microsoft Exchange's automatic replies.
	header("X-Auto-Response-Suppress", "All")

	if m.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		writeQuotedPrintable(&b, m.Text)
	} else {
		// "=_" never occurs in quoted-printable text, so the boundary
		// cannot occur in the parts.
		boundary := "=_" + id
		header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": boundary}))
		b.WriteString("\r\n")
		mw := multipart.NewWriter(&b)
		if err := mw.SetBoundary(boundary); err != nil {
			return envelope{}, fmt.Errorf("mail: boundary %q: %w", boundary, err)
		}
		for _, part := range []struct{ typ, body string }{
			{"text/plain; charset=utf-8", m.Text},
			{"text/html; charset=utf-8", m.HTML},
		} {
			w, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {part.typ},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return envelope{}, err
			}
			writeQuotedPrintable(w, part.body)
		}
		if err := mw.Close(); err != nil {
			return envelope{}, err
		}
	}
	return envelope{from: from.Address, to: to.Address, data: b.Bytes()}, nil
}

// formatAddress writes a as a header value: the bare addr-spec without a
// display name, else the name (quoted or RFC 2047-encoded) and <addr-spec>.
func formatAddress(a *mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.String()
}

// writeHeader writes "name: value" and CRLF, folding the line at single
// spaces (which unfolding restores exactly) to keep it within maxLineLen
// where the value allows. The value must hold no line break.
func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(":")
	n := len(name) + 1
	start := 0 // start of the pending segment of value
	for i := 0; i <= len(value); i++ {
		// A segment ends at the end of value or at a single space between
		// two other characters.
		if i < len(value) && (value[i] != ' ' || i == 0 || i == len(value)-1 || value[i-1] == ' ' || value[i+1] == ' ') {
			continue
		}
		seg := value[start:i]
		if start > 0 && n+1+len(seg) > maxLineLen {
			b.WriteString("\r\n")
			n = 0
		}
		b.WriteString(" ")
		b.WriteString(seg)
		n += 1 + len(seg)
		start = i + 1
	}
	b.WriteString("\r\n")
}

// writeQuotedPrintable writes text quoted-printable with CRLF line breaks,
// ending with one.
func writeQuotedPrintable(w io.Writer, text string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	qp := quotedprintable.NewWriter(w)
	// Writes to a bytes.Buffer or a multipart part over one cannot fail.
	_, _ = qp.Write([]byte(text))
	_ = qp.Close()
}

// isControl is true for the C0 and C1 control characters except tab.
func isControl(r rune) bool {
	return r < ' ' && r != '\t' || 0x7f <= r && r < 0xa0
}

// isLanguageTag accepts the shape of a BCP 47 tag: letters, then subtags
// of letters and digits, each of 1 to 8 characters, joined by hyphens.
func isLanguageTag(s string) bool {
	if len(s) > 35 {
		return false
	}
	for i, sub := range strings.Split(s, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for j := 0; j < len(sub); j++ {
			c := sub[j] | 0x20
			if !('a' <= c && c <= 'z' || i > 0 && '0' <= sub[j] && sub[j] <= '9') {
				return false
			}
		}
	}
	return true
}
