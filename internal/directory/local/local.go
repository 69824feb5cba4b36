// Package local owns local accounts: argon2id password hashing in PHC
// format and password authentication that takes the same time whether or
// not the account exists.
package local
