// Package mail owns outgoing e-mail: the messages TNO sends to people
// (forgotten-password links, invitations, security notices), through one
// submission server over SMTP.
//
// Callers depend on Sender. SMTP, built by New from a Config, sends each
// message over its own connection: STARTTLS (required, never
// opportunistic) or implicit TLS, the certificate checked against
// Config.RootCAs or the system roots; AUTH PLAIN, or LOGIN when the server
// offers only that; cleartext only towards a loopback address. Send
// composes the whole message before dialling, 7-bit only: From, To,
// Subject (RFC 2047 when not ASCII), Date, Message-ID (in the From
// domain), MIME-Version, Content-Language, Auto-Submitted: auto-generated
// (and Microsoft's X-Auto-Response-Suppress), then a UTF-8
// quoted-printable text/plain body, or a multipart/alternative of text and
// HTML. A line break in a header field is refused (ErrHeaderInjection, an
// ErrInvalidMessage), and no error ever carries the password, even when a
// server echoes it. Recorder is the test double other packages' tests use
// instead of a server.
//
// Addresses must be ASCII (no SMTPUTF8 or IDNA here); display names may be
// any UTF-8 text.
//
// The integration test runs against a real SMTP server when TNO_TEST_SMTP
// is set (bash scripts/smtp-test-server.sh starts Debian's exim4 and prints
// these variables):
//
//	TNO_TEST_SMTP           host:port offering STARTTLS, then AUTH PLAIN and LOGIN
//	TNO_TEST_SMTP_TLS       host:port with implicit TLS (optional)
//	TNO_TEST_SMTP_PLAIN     host:port without STARTTLS, offering AUTH LOGIN (optional)
//	TNO_TEST_SMTP_USER      account accepted by the server
//	TNO_TEST_SMTP_PASSWORD  its password
//	TNO_TEST_SMTP_CA        PEM file of the CA that signed the server certificate
//	TNO_TEST_SMTP_MAILDIR   maildir where the server delivers every message
//
// The servers must require authentication for any recipient and name the
// protocol in their Received field (RFC 3848: ESMTPSA, ESMTPA). With
// TNO_TEST_REQUIRE_SMTP=1 a missing TNO_TEST_SMTP fails the test instead
// of skipping it.
//
// It imports only the standard library.
package mail
