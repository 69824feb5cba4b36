package web

// The « Mot de passe oublié » pages (internal/authflow): the request for
// a link, the new password chosen through the link, and the end.

// FieldToken is the reset link's token, in the link and in the hidden
// field of ResetPage's form.
const FieldToken = "token"

// ForgotPage asks for the identifier (username or e-mail address) of the
// account whose password is forgotten, and posts it (field "identifier")
// to Action. With Sent it gives the one answer every request gets,
// whether or not an account matches; with Unavailable (TNO sends no
// e-mail) it tells the person to contact the support instead.
type ForgotPage struct {
	Action string // form action URL (POST)
	// RequestID is the sign-in the person came from (hidden field
	// "request"), "" if none; BackURL returns to it.
	RequestID  string
	BackURL    string
	Identifier string // pre-filled, or the one just submitted
	// ErrorKey is a message key shown in an alert above the form
	// ("forgot.identifier_required").
	ErrorKey string
	// Sent: the request was taken (« Si un compte correspond… »);
	// Minutes is how long the link is valid.
	Sent    bool
	Minutes int
	// Unavailable: no form, the support's contact (Brand.Support).
	Unavailable bool
}

// ResetPage asks for the new password of the person a reset link was
// sent to, twice, and posts it with the link's token (field "token") to
// Action. With Invalid the link is unknown, used or expired: the page
// says so and links to ForgotURL for another one.
type ResetPage struct {
	Action    string // form action URL (POST)
	Token     string // hidden field "token"
	RequestID string // hidden field "request": the sign-in to go back to, may be empty
	// Identifier is the account's username: shown, and given to
	// password managers.
	Identifier string
	MinLength  int // minimum number of characters, for the hint
	// ErrorKey is a message key shown in an alert above the form:
	// "password.mismatch", "password.too_short", "password.too_long",
	// "password.common", "password.personal".
	ErrorKey  string
	Invalid   bool
	ForgotURL string
	// Invitation: the link is an administrator's invitation; the person
	// chooses their first password (the heading and intro say so).
	Invitation bool
}

// ResetDonePage says the new password is set and every session of the
// account ended, with a link to sign in.
type ResetDonePage struct {
	SignInURL string
}

// Page template names of the reset pages.
const (
	pageForgot    = "forgot"
	pageReset     = "reset"
	pageResetDone = "reset_done"
)

// titleKey is the page's title: the form's, or the invalid link's.
func (p ResetPage) titleKey() string {
	if p.Invalid {
		return "reset.invalid_heading"
	}
	if p.Invitation {
		return "invite.title"
	}
	return "reset.title"
}
