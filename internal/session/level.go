package session

import "slices"

// Authentication context class references (acr values), named as
// ProConnect names them: eidas1 is one factor (a password); eidas2 is two
// factors (a password and a one-time code or a passkey, or a passkey with
// user verification alone). eidas3 (hardware-bound keys, smart cards) is
// not reached and not advertised.
const (
	ACREidas1 = "eidas1"
	ACREidas2 = "eidas2"
)

// Authentication methods, RFC 8176 values.
const (
	AMRPassword = "pwd"  // a password
	AMROTP      = "otp"  // a one-time code (TOTP, a recovery code)
	AMRHardware = "hwk"  // a device-bound key (passkey not backed up)
	AMRSoftware = "swk"  // a synced passkey
	AMRUser     = "user" // user presence and verification on the authenticator
	AMRMFA      = "mfa"  // several factors
)

// acrRank orders the levels: a session at a level satisfies every lower
// one. Unknown values rank 0 and are satisfied by nothing.
var acrRank = map[string]int{ACREidas1: 1, ACREidas2: 2, "eidas3": 3}

// SupportedACRs lists the levels a session can reach, lowest first.
func SupportedACRs() []string { return []string{ACREidas1, ACREidas2} }

// ACRFor returns the level reached with the authentication methods amr
// (RFC 8176 values), "" if none: several factors ("mfa") are eidas2, a
// password or a key alone eidas1.
func ACRFor(amr []string) string {
	switch {
	case slices.Contains(amr, AMRMFA):
		return ACREidas2
	case slices.Contains(amr, AMRPassword), slices.Contains(amr, AMRHardware), slices.Contains(amr, AMRSoftware):
		return ACREidas1
	}
	return ""
}

// Level returns a session's authentication level: the one stored at
// sign-in, or for sessions stored without one, the level its methods
// reach.
func Level(acr string, amr []string) string {
	if acr != "" {
		return acr
	}
	return ACRFor(amr)
}

// Satisfies reports whether a session at level achieved meets the level
// wanted: wanted is a known level and achieved is at least as high.
func Satisfies(achieved, wanted string) bool {
	w := acrRank[wanted]
	return w > 0 && acrRank[achieved] >= w
}

// Reachable reports whether some session could meet the level wanted
// (it is known and at most the highest supported one).
func Reachable(wanted string) bool {
	for _, s := range SupportedACRs() {
		if Satisfies(s, wanted) {
			return true
		}
	}
	return false
}

// Rank returns the order of a level (0 for unknown ones), for choosing
// the lowest of several.
func Rank(acr string) int { return acrRank[acr] }
