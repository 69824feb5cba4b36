// Package web owns TNO's browser-facing presentation: embedded HTML
// templates and static assets, the French and English messages, the
// security headers middleware and the error pages.
//
// It imports only the standard library (and x/text if needed). Protocol
// packages (oidc, later saml and cas) and portal/admin render through it.
package web

import (
	"html/template"
	"time"
)

// Page data. Every page also receives, from Render, the language and the
// translation function; these structs carry only page-specific data.

// Names of the form fields posted by the login and chooser pages.
const (
	FieldRequest    = "request"    // hidden: RequestID of LoginPage and ChooserPage
	FieldIdentifier = "identifier" // LoginPage identifier (username)
	FieldPassword   = "password"   // LoginPage password
	FieldMembership = "membership" // ChooserPage: the chosen ChooserOption.ID
)

// LoginPage is the first page of a sign-in (the identifier), or with
// PasswordStep the second (the password, for the identifier given).
type LoginPage struct {
	AppName string // application the person is signing into
	// ServiceName is the service a federation (ProConnect) signs the
	// person into through AppName, "" if none: the heading names it.
	ServiceName string
	Action      string // form action URL (POST)
	RequestID   string // hidden field "request"
	Identifier  string // pre-filled identifier (login_hint or previous attempt)
	// ErrorKey is a message key shown in an alert above the form, empty
	// if none. "login.invalid" for a failed sign-in.
	ErrorKey string
	// PasswordStep shows the password page: the identifier is shown and
	// posted again (hidden), with ChangeURL to type another one.
	PasswordStep bool
	ChangeURL    string
	// Throttled is the reason ("account", "address", "device") the last
	// attempt was refused before it was checked, "" if it was not;
	// WaitMinutes is how long until the next one. OfferCode adds the
	// field "code": a person with a second factor signs in at once with
	// the password and the code together.
	Throttled   string
	WaitMinutes int
	OfferCode   bool
	// Passkey, when set, offers to sign in with a passkey (a form shown
	// only where the browser can use one).
	Passkey *PasskeyForm
}

// Passkey ceremonies of a PasskeyForm.
const (
	PasskeyGet    = "get"
	PasskeyCreate = "create"
)

// PasskeyForm is a passkey ceremony on a page: static/passkey.js asks the
// browser (navigator.credentials.get or create) with Options, the JSON
// the server prepared, puts the answer in the hidden field "credential"
// and posts the form. Without JavaScript, or in a browser without
// WebAuthn, the form stays hidden. Conditional asks the browser to offer
// the person's passkeys in the identifier field's autofill too.
type PasskeyForm struct {
	Action      string
	RequestID   string
	Mode        string // PasskeyGet or PasskeyCreate
	Options     string // JSON
	Conditional bool
}

// PasskeyEnrolPage creates a passkey from the security page: a name, and
// the button that asks the browser.
type PasskeyEnrolPage struct {
	Form      PasskeyForm
	CancelURL string
}

// FactorPage asks for the second factor once the password is proven:
// the code of the authenticator app, or with Method "recovery" one of
// the recovery codes. It posts RequestID, Method and the field "code".
type FactorPage struct {
	AppName   string
	Action    string // form action URL (POST)
	RequestID string
	Method    string // "totp" or "recovery"
	// OtherURL switches to the other method, "" if the person has no
	// recovery codes; CancelURL starts the sign-in again.
	OtherURL  string
	CancelURL string
	ErrorKey  string
	// WaitMinutes, when not 0, says the codes are throttled: the next
	// one is checked in that many minutes.
	WaitMinutes int
	// HasTOTP: the person has an authenticator app (else the code field
	// takes a recovery code). Passkey offers their passkeys.
	HasTOTP bool
	Passkey *PasskeyForm
}

// SecurityPage is the person's own page of factors: the authenticator
// app (enrol, rename, remove), passkeys (add, rename, remove) and
// recovery codes (renew).
type SecurityPage struct {
	PersonName   string
	Factors      []FactorItem // the authenticator app
	PasskeyItems []FactorItem
	// Passkeys: the deployment can use passkeys (PasskeyAction adds one).
	Passkeys      bool
	PasskeyAction string
	HasTOTP       bool
	RecoveryLeft  int
	// Notice is "enrolled", "removed", "renamed" or "".
	Notice string
	// Form actions (POST).
	EnrolAction, RecoveryAction, RemoveAction, RenameAction string
	// ReauthWithin is how many minutes after signing in changes are
	// allowed without signing in again.
	ReauthWithin int
}

// FactorItem is one factor on the SecurityPage.
type FactorItem struct {
	ID       string
	Kind     string // "totp", "passkey"
	Name     string
	Created  time.Time
	LastUsed *time.Time
	Synced   bool // a passkey backed up to the person's account (not bound to one device)
}

// TOTPEnrolPage shows the QR code and key of an authenticator app being
// enrolled, and asks for its first code (field "code") and a name
// (field "name").
type TOTPEnrolPage struct {
	Action    string
	RequestID string
	QRCode    template.HTML // inline SVG built by factor/totp
	Key       string        // the key, in groups of four
	ErrorKey  string
	CancelURL string
	// Required: a policy requires a second factor and the person is
	// enrolling one during their sign-in (the page says why).
	Required bool
	// Passkey, when set, offers to create a passkey instead (PasskeyCreate).
	Passkey *PasskeyForm
}

// RecoveryCodesPage shows new recovery codes, once.
type RecoveryCodesPage struct {
	Codes       []string
	ContinueURL string
}

// ChooserOption is one membership the person may use.
type ChooserOption struct {
	ID      string // membership ID, value of the radio button "membership"
	OrgName string
	Kind    string // "agent" or "elu"
	Service string
	Title   string
	Mandate string // élu's current function(s), may be empty
}

// ChooserPage lets a person with several eligible memberships choose the
// organization they act for.
type ChooserPage struct {
	AppName   string
	Action    string // form action URL (POST)
	RequestID string
	Options   []ChooserOption
	ErrorKey  string
	Who       *SignedIn // who is signed in, with a way to switch account
}

// SignedIn says who is signed in on the chooser and consent pages, with a
// link to the login page of the same request, to sign in as someone else
// (the new sign-in replaces the session; the link itself changes nothing).
type SignedIn struct {
	Name      string
	SwitchURL string
}

// MessagePage is an error or refusal page.
type MessagePage struct {
	Status     int    // HTTP status, shown discreetly
	TitleKey   string // message key of the heading
	MessageKey string // message key of the explanation
	ErrorID    string // reference to quote to support, may be empty
	// Detail is an extra, already safe, human string (for example an
	// OAuth error description), may be empty. Never an internal error.
	Detail string
	// BackURL is where the error page's way back leads (status 400 and
	// above); "" is TNO's home page.
	BackURL string
}

// LoggedOutPage is shown after sign-out when the browser is not sent
// straight back to an application: the applications to notify through
// the browser (front-channel logout) are loaded in hidden iframes, and a
// link, not a timed redirect (no JavaScript, WCAG 2.2.1), continues to the
// application that asked for the sign-out.
type LoggedOutPage struct {
	Frames []LogoutFrame
	// ContinueURL is the application's post-logout redirect URI, with
	// state; empty if none. ContinueApp names that application.
	ContinueURL string
	ContinueApp string
}

// LogoutFrame is an application notified of the sign-out through the
// browser: URL is its front-channel logout URI.
type LogoutFrame struct {
	AppName string
	URL     string
}

// Names of the form fields posted by the sign-out confirmation page.
const (
	FieldClientID              = "client_id"
	FieldPostLogoutRedirectURI = "post_logout_redirect_uri"
	FieldState                 = "state"
	FieldUILocales             = "ui_locales"
)

// LogoutConfirmPage asks the person to confirm a sign-out an application
// requested without proof that it comes from them: a form POST to
// Action, so that another site cannot sign them out (logout CSRF).
type LogoutConfirmPage struct {
	AppName string // application asking, may be empty
	Action  string // form action URL (POST)
	// Hidden fields carried to the confirmation, each omitted if empty.
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
	UILocales             string
}

// FormPostPage delivers an authorization response by an HTML form that
// posts itself to the application (OAuth 2.0 Form Post Response Mode):
// a static script (form_post.js, the only script TNO serves) submits it
// at once, and without JavaScript the person presses "Continuer". The
// handler calls AllowScripts and AllowFormAction before rendering it.
type FormPostPage struct {
	AppName string // the application, may be empty
	Action  string // the redirect URI (http or https)
	Fields  []FormField
}

// FormField is one hidden field of a FormPostPage.
type FormField struct {
	Name, Value string
}

// Names of the form fields posted by the consent and account pages.
const (
	FieldDecision = "decision" // ConsentPage: DecisionAllow or DecisionDeny
	DecisionAllow = "allow"
	DecisionDeny  = "deny"
)

// ConsentPage asks a person to allow an application that is not
// first-party to receive their information: the claims of Scopes, told
// in plain words. Its form posts RequestID, MembershipID and the decision.
type ConsentPage struct {
	AppName      string
	OrgName      string // the organization that owns the application
	Scopes       []string
	Action       string // form action URL (POST)
	RequestID    string
	MembershipID string // hidden field "membership": the membership chosen
	Who          *SignedIn
}

// AccountConsentsPage lists the consents a person gave, each with a
// button that withdraws it.
type AccountConsentsPage struct {
	PersonName   string
	Consents     []ConsentItem
	RevokeAction string // form action URL (POST) of the "Retirer" buttons, with field client_id
	LogoutURL    string
	// Revoked names the application whose consent was just withdrawn,
	// "" if none: a notice says so.
	Revoked string
}

// ConsentItem is one consent on the AccountConsentsPage.
type ConsentItem struct {
	ClientID string
	AppName  string
	OrgName  string
	Scopes   []string
	Date     time.Time // when given (last changed)
}

// Names of the form fields posted by the PasswordChangePage.
const (
	FieldNewPassword     = "new_password"
	FieldConfirmPassword = "confirm_password"
)

// PasswordChangePage asks a person whose password was set by someone
// else (the generated first administrator's, a temporary one) to choose
// their own before any session opens, once they proved the current one
// in the same sign-in. It posts the new password and its confirmation to
// Action.
type PasswordChangePage struct {
	Action     string // form action URL (POST)
	RequestID  string // hidden field "request": the sign-in
	Identifier string // shown (and given to password managers)
	MinLength  int    // minimum number of characters, for the hint
	// ErrorKey is a message key shown in an alert above the form:
	// "password.mismatch", "password.same", "password.too_short",
	// "password.too_long", "password.common", "password.personal".
	ErrorKey string
}
