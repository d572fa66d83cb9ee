#!/bin/sh
# The report's page in a real browser: it loads offline (the browser's
# network is shut), every picture renders (index.html records in the body's
# data-images attribute how many images loaded, of how many), and the
# tables are there.  Skipped (status 77) where chromium or gnuplot is not
# installed.
# usage: report-browser.sh COWSIM SOURCE_DIR MKTRACE
set -u
COWSIM=$1
SRC=$2
MKTRACE=$3

BROWSER=
for b in chromium chromium-browser google-chrome; do
	if command -v $b >/dev/null 2>&1; then
		BROWSER=$b
		break
	fi
done
if [ -z "$BROWSER" ]; then
	echo "report-browser: no chromium installed (Debian: apt install chromium): skipped"
	exit 77
fi
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "report-browser: no gnuplot installed: skipped"
	exit 77
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$MKTRACE" kv.ev 12 || fail "mktrace"
"$COWSIM" replay kv.ev -q --faults >/dev/null || fail "replay kv.ev"
"$COWSIM" replay "$SRC/traces/scenarios/eng-zero-page.scn" -q >/dev/null ||
	fail "replay scenario"
"$COWSIM" report -o rep -q || fail "report"

# The flags keep chromium from reaching for the network (this machine's is
# closed) and from a profile or sandbox it cannot have under a test runner.
run_browser() {
	timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$T/profile" "$@" 2>"$T/browser.err"
}
run_browser --virtual-time-budget=10000 --dump-dom "file://$T/rep/index.html" >dom.html
[ -s dom.html ] || fail "$BROWSER printed no DOM: $(tail -3 "$T/browser.err")"
imgs=$(grep -o '<img ' rep/index.html | wc -l)
[ "$imgs" -gt 0 ] || fail "index.html has no pictures"
got=$(grep -o 'data-images="[^"]*"' dom.html | sed 's/data-images="//; s/"//')
[ "$got" = "$imgs/$imgs" ] ||
	fail "pictures loaded in the browser: '$got', expected $imgs/$imgs"
grep -q "did not load: [a-z]" dom.html && fail "the page reports a picture that did not load"
[ "$(grep -o '<table' dom.html | wc -l)" -ge 4 ] || fail "tables missing from the page"
grep -q "kv.ev" dom.html || fail "trace missing from the page"
grep -q "this trace has no forks" dom.html || fail "'no data' note missing"
run_browser --window-size=1200,3000 --screenshot="$T/page.png" \
	"file://$T/rep/index.html" >/dev/null
[ -s page.png ] || fail "no screenshot of the page"

if [ $fails -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "report-browser: $got pictures rendered in $BROWSER"
