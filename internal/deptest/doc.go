// Package deptest enforces TNO's dependency arrows (GUIDE.md section 2)
// with a test over the output of go list: which internal packages each
// layer may use, which packages may import the OpenID provider library and
// the SQL drivers, and that nothing under internal imports cmd.
//
// The rules are a table in deptest_test.go; add a row when a package or an
// arrow is added. A rule about a package that does not exist yet matches
// nothing. Only the build graph is checked: test files may import more.
//
// The package holds no code; it imports nothing.
package deptest
