package session

import "slices"

// Authentication context class references (acr values), named as
// ProConnect names them: eidas1 is one factor (a password); eidas2 and
// eidas3 will come with multi-factor authentication.
const (
	ACREidas1 = "eidas1"
)

// acrRank orders the levels: a session at a level satisfies every lower
// one. Unknown values rank 0 and are satisfied by nothing.
var acrRank = map[string]int{ACREidas1: 1, "eidas2": 2, "eidas3": 3}

// SupportedACRs lists the levels a session can reach today.
func SupportedACRs() []string { return []string{ACREidas1} }

// ACRFor returns the level reached with the authentication methods amr
// (RFC 8176 values), "" if none: a password ("pwd") is eidas1.
func ACRFor(amr []string) string {
	if slices.Contains(amr, "pwd") {
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
