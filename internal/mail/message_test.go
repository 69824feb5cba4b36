package mail

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	testNow  = time.Date(2026, 12, 4, 18, 37, 5, 0, time.FixedZone("CET", 3600))
	testFrom = mustAddress("Métropole « Territoire » <no-reply@ville.fr>")
)

func mustAddress(s string) *mail.Address {
	a, err := parseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

const (
	frenchSubject = "Réinitialisation de votre mot de passe « Territoire »"
	frenchText    = "Bonjour Camille,\n\nPour choisir un nouveau mot de passe, suivez ce lien (valable 30 minutes) :\nhttps://tno.ville-exemple.fr/mot-de-passe?code=abc%3D%3D\n\n.Cette ligne commence par un point.\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n\nL'équipe numérique — Métropole\n"
)

func TestComposeText(t *testing.T) {
	env, err := compose(testFrom, Message{
		To:      "camille.martin@ville.fr",
		Subject: frenchSubject,
		Text:    "Bonjour,\n\nvoici « le lien » : https://tno.ville-exemple.fr/x?y=1\n.point\nfin  ",
		Lang:    "fr",
	}, testNow, "ID123")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(`Date: Fri, 04 Dec 2026 18:37:05 +0100
From: =?utf-8?q?M=C3=A9tropole_=C2=AB_Territoire_=C2=BB?= <no-reply@ville.fr>
To: camille.martin@ville.fr
Subject: =?utf-8?q?R=C3=A9initialisation_de_votre_mot_de_passe_=C2=AB_Territoire_?=
 =?utf-8?q?=C2=BB?=
Message-ID: <ID123@ville.fr>
MIME-Version: 1.0
Content-Language: fr
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Bonjour,

voici =C2=AB le lien =C2=BB : https://tno.ville-exemple.fr/x?y=3D1
.point
fin =20
`, "\n", "\r\n")
	if diff := cmp.Diff(want, string(env.data)); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if env.from != "no-reply@ville.fr" || env.to != "camille.martin@ville.fr" {
		t.Errorf("envelope %q -> %q", env.from, env.to)
	}
}

// parsed is a composed message read back as a mail reader would.
type parsed struct {
	header        mail.Header
	subject       string
	text, html    string
	contentType   string
	mediaParams   map[string]string
	partEncodings []string
}

func parse(t testing.TB, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, data)
	}
	p := parsed{header: msg.Header}
	p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject %q: %v", msg.Header.Get("Subject"), err)
	}
	p.contentType, p.mediaParams, err = mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	switch p.contentType {
	case "text/plain":
		p.partEncodings = []string{msg.Header.Get("Content-Transfer-Encoding")}
		p.text = readQP(t, msg.Body)
	case "multipart/alternative":
		mr := multipart.NewReader(msg.Body, p.mediaParams["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("multipart: %v", err)
			}
			p.partEncodings = append(p.partEncodings, part.Header.Get("Content-Transfer-Encoding"))
			body := readQP(t, part)
			switch ct := part.Header.Get("Content-Type"); ct {
			case "text/plain; charset=utf-8":
				p.text = body
			case "text/html; charset=utf-8":
				p.html = body
			default:
				t.Fatalf("part type %q", ct)
			}
		}
	default:
		t.Fatalf("Content-Type %q", p.contentType)
	}
	return p
}

func readQP(t testing.TB, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(r))
	if err != nil {
		t.Fatalf("quoted-printable: %v", err)
	}
	return string(b)
}

// crlf is text with CRLF line breaks and a final one, as it travels.
func crlf(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return strings.ReplaceAll(text, "\n", "\r\n")
}

func TestComposeRoundTrip(t *testing.T) {
	html := "<!doctype html><html lang=\"fr\"><p>Bonjour Camille,</p><p>Suivez <a href=\"https://tno.ville-exemple.fr/mot-de-passe?code=abc%3D%3D\">ce lien</a> — « valable 30 minutes ».</p></html>"
	tests := []struct {
		name string
		m    Message
	}{
		{"text", Message{To: "Camille Lefèvre <camille.lefevre@ville.fr>", Subject: frenchSubject, Text: frenchText, Lang: "fr"}},
		{"text and html", Message{To: "camille@ville.fr", Subject: frenchSubject, Text: frenchText, HTML: html, Lang: "fr-FR"}},
		{"crlf text", Message{To: "camille@ville.fr", Subject: "Invitation", Text: strings.ReplaceAll(frenchText, "\n", "\r\n")}},
		{"long subject", Message{To: "camille@ville.fr", Subject: strings.Repeat("Votre accès à l'espace « agents » de la métropole ", 4), Text: "x"}},
		{"long ascii subject", Message{To: "camille@ville.fr", Subject: strings.TrimSpace(strings.Repeat("Your access to the staff portal  of the metropolis ", 4)), Text: "x"}},
		{"quoted display name", Message{To: `"Martin, Camille (DSI)" <camille@ville.fr>`, Subject: "Alerte de sécurité", Text: "Nouvelle connexion."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := compose(testFrom, tt.m, testNow, "ID123")
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(strings.TrimSuffix(string(env.data), "\r\n"), "\r\n") {
				if strings.ContainsAny(line, "\r\n") || len(line) > 998 {
					t.Errorf("line %d %q: bare CR or LF, or too long", i, line)
				}
				if len(line) > 84 { // 75-character encoded words after "Subject: "
					t.Errorf("line %d is %d long: %q", i, len(line), line)
				}
				for _, c := range []byte(line) {
					if c >= 0x80 {
						t.Fatalf("line %d is not 7-bit: %q", i, line)
					}
				}
			}
			p := parse(t, env.data)
			if p.subject != tt.m.Subject {
				t.Errorf("subject %q, want %q", p.subject, tt.m.Subject)
			}
			to, err := p.header.AddressList("To")
			if err != nil || len(to) != 1 {
				t.Fatalf("To: %v %v", to, err)
			}
			want := mustAddress(tt.m.To)
			if *to[0] != *want {
				t.Errorf("To %+v, want %+v", to[0], want)
			}
			from, err := p.header.AddressList("From")
			if err != nil || len(from) != 1 || *from[0] != *testFrom {
				t.Errorf("From %v (%v), want %v", from, err, testFrom)
			}
			if date, err := p.header.Date(); err != nil || !date.Equal(testNow) {
				t.Errorf("Date %v (%v), want %v", date, err, testNow)
			}
			for key, want := range map[string]string{
				"Message-Id":       "<ID123@ville.fr>",
				"Mime-Version":     "1.0",
				"Auto-Submitted":   "auto-generated",
				"Content-Language": tt.m.Lang,
			} {
				if got := p.header.Get(key); got != want {
					t.Errorf("%s %q, want %q", key, got, want)
				}
			}
			if p.text != crlf(tt.m.Text) {
				t.Errorf("text:\n%q\nwant\n%q", p.text, crlf(tt.m.Text))
			}
			if tt.m.HTML != "" && p.html != crlf(tt.m.HTML) {
				t.Errorf("html:\n%q\nwant\n%q", p.html, crlf(tt.m.HTML))
			}
			for _, e := range p.partEncodings {
				if e != "quoted-printable" {
					t.Errorf("Content-Transfer-Encoding %q", e)
				}
			}
		})
	}
}

func TestComposeFolding(t *testing.T) {
	subject := strings.Repeat("Invitation to the staff portal of the metropolis ", 5) + "now"
	env, err := compose(testFrom, Message{To: "a@ville.fr", Subject: subject, Text: "x"}, testNow, "ID")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(env.data), "\r\nSubject:")
	field, _, _ := strings.Cut(rest, "\r\nMessage-ID:")
	lines := strings.Split(field, "\r\n")
	if len(lines) < 3 {
		t.Errorf("Subject not folded: %q", field)
	}
	for _, line := range lines {
		if len(line) > maxLineLen {
			t.Errorf("line %q is %d long", line, len(line))
		}
	}
	if got := parse(t, env.data).subject; got != subject {
		t.Errorf("subject %q, want %q", got, subject)
	}
}

func TestComposeRefuses(t *testing.T) {
	ok := Message{To: "camille@ville.fr", Subject: "Objet", Text: "Texte"}
	tests := []struct {
		name      string
		edit      func(*Message)
		injection bool
		want      string
	}{
		{"CRLF in To", func(m *Message) { m.To = "camille@ville.fr\r\nBcc: victim@example.org" }, true, "invalid message: to:"},
		{"LF in To", func(m *Message) { m.To = "camille@ville.fr\nBcc: victim@example.org" }, true, "invalid message: to:"},
		{"CR in To display name", func(m *Message) { m.To = "Camille\r <camille@ville.fr>" }, true, "invalid message: to:"},
		{"CRLF in Subject", func(m *Message) { m.Subject = "Objet\r\nBcc: victim@example.org" }, true, "invalid message: subject:"},
		{"LF in Subject", func(m *Message) { m.Subject = "Objet\nContent-Type: text/html" }, true, "invalid message: subject:"},
		{"CR in Subject", func(m *Message) { m.Subject = "Objet\rX: y" }, true, "invalid message: subject:"},
		{"LF in Lang", func(m *Message) { m.Lang = "fr\nBcc: victim@example.org" }, true, "invalid message: lang:"},
		{"two recipients", func(m *Message) { m.To = "camille@ville.fr, victim@example.org" }, false, "not one address"},
		{"group", func(m *Message) { m.To = "undisclosed-recipients: camille@ville.fr, victim@example.org;" }, false, "invalid message: to:"},
		{"no domain", func(m *Message) { m.To = "camille" }, false, "invalid message: to:"},
		{"empty To", func(m *Message) { m.To = "" }, false, "invalid message: to:"},
		{"non-ASCII address", func(m *Message) { m.To = "camille@ville-évry.fr" }, false, "ASCII"},
		{"NUL in To", func(m *Message) { m.To = "camille\x00@ville.fr" }, false, "control"},
		{"SMTP command in address", func(m *Message) { m.To = "<camille@ville.fr> NOTIFY=NEVER" }, false, "invalid message: to:"},
		{"empty subject", func(m *Message) { m.Subject = "  " }, false, "subject: is required"},
		{"control in subject", func(m *Message) { m.Subject = "Objet\x1b[31m" }, false, "control"},
		{"invalid UTF-8 subject", func(m *Message) { m.Subject = "Objet \xff" }, false, "not UTF-8"},
		{"empty text", func(m *Message) { m.Text = "\n" }, false, "text: is required"},
		{"invalid UTF-8 text", func(m *Message) { m.Text = "caf\xe9" }, false, "text: is not UTF-8"},
		{"invalid UTF-8 html", func(m *Message) { m.HTML = "caf\xe9" }, false, "html: is not UTF-8"},
		{"bad lang", func(m *Message) { m.Lang = "fr_FR" }, false, "lang:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			_, err := compose(testFrom, m, testNow, "ID")
			if err == nil {
				t.Fatal("compose accepted the message")
			}
			if !errors.Is(err, ErrInvalidMessage) {
				t.Errorf("%v: not ErrInvalidMessage", err)
			}
			if got := errors.Is(err, ErrHeaderInjection); got != tt.injection {
				t.Errorf("%v: ErrHeaderInjection %v, want %v", err, got, tt.injection)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q in it", err, tt.want)
			}
			if err := new(Recorder).Send(t.Context(), m); !errors.Is(err, ErrInvalidMessage) {
				t.Errorf("Recorder.Send = %v, want ErrInvalidMessage", err)
			}
		})
	}
	if _, err := compose(testFrom, ok, testNow, "ID"); err != nil {
		t.Errorf("the base message is refused: %v", err)
	}
}

func TestIsLanguageTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"fr": true, "en": true, "fr-FR": true, "oc-aranes": true, "zh-Hant-TW": true, "es-419": true,
		"": false, "fr_FR": false, "fr-": false, "-fr": false, "f r": false, "123": false, "fr--FR": false, "verylongtag": false,
	} {
		if got := isLanguageTag(tag); got != want {
			t.Errorf("isLanguageTag(%q) = %v, want %v", tag, got, want)
		}
	}
}

// FuzzCompose checks that whatever a person types into an address, a
// subject or a body, the message is either refused or parses back with
// exactly the fields TNO wrote: no injected header, the same recipient,
// subject and text.
func FuzzCompose(f *testing.F) {
	f.Add("Camille <camille@ville.fr>", frenchSubject, frenchText, "", "fr")
	f.Add("camille@ville.fr\r\nBcc: x@example.org", "Objet\r\nBcc: x@example.org", ".\r\n.\r\nQUIT\r\n", "<p>x</p>", "en")
	f.Add(`"a\"b" <a@b.fr>`, "=?utf-8?q?=41?=", "\r\r\n\n", "--=_ID\r\n", "fr-FR")
	f.Add("=?utf-8?q?Camille=0D=0ABcc:_x@example.org?= <a@b.fr>", "  deux  espaces  ", strings.Repeat("é", 200), "", "")
	f.Fuzz(func(t *testing.T, to, subject, text, html, lang string) {
		m := Message{To: to, Subject: subject, Text: text, HTML: html, Lang: lang}
		env, err := compose(testFrom, m, testNow, "ID123")
		if err != nil {
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("error %v is not ErrInvalidMessage", err)
			}
			return
		}
		if strings.ContainsAny(env.to, "\r\n<> ") {
			t.Fatalf("envelope recipient %q", env.to)
		}
		p := parse(t, env.data)
		want := []string{"Date", "From", "To", "Subject", "Message-Id", "Mime-Version", "Auto-Submitted", "X-Auto-Response-Suppress", "Content-Type"}
		if html == "" {
			want = append(want, "Content-Transfer-Encoding")
		}
		if lang != "" {
			want = append(want, "Content-Language")
		}
		if len(p.header) != len(want) {
			t.Fatalf("header fields %v, want %v", p.header, want)
		}
		for _, key := range want {
			if len(p.header[key]) != 1 {
				t.Fatalf("header %s: %q", key, p.header[key])
			}
		}
		gotTo, err := p.header.AddressList("To")
		if err != nil || len(gotTo) != 1 || gotTo[0].Address != env.to {
			t.Fatalf("To %v (%v), want %q", gotTo, err, env.to)
		}
		// An ASCII subject travels as is, its ends trimmed by unfolding;
		// any other is encoded exactly. (An ASCII subject that looks like
		// an encoded word is decoded by readers: not a concern.)
		wantSubject := subject
		if !strings.ContainsFunc(subject, func(r rune) bool { return r > '~' }) {
			wantSubject = strings.Trim(subject, " \t")
		}
		if p.subject != wantSubject && !strings.Contains(subject, "=?") {
			t.Fatalf("subject %q, want %q", p.subject, wantSubject)
		}
		if p.text != crlf(text) {
			t.Fatalf("text %q, want %q", p.text, crlf(text))
		}
		if html != "" && p.html != crlf(html) {
			t.Fatalf("html %q, want %q", p.html, crlf(html))
		}
	})
}
