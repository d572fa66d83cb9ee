#!/bin/bash
# `cmake --install` into a temporary prefix, then every installed file
# checked where a user meets it: the binary runs from the prefix with
# nothing of the build or source tree; the presets and docs are there; each
# man page (one per verb of `cowsim --help`) renders with no warning and
# has its NAME, SYNOPSIS and DESCRIPTION; the bash completion is found by
# bash-completion's own loader and completes verbs, a verb's options,
# preset names and file names.  Bash, because the completion is bash's.
#
# usage: install.sh CMAKE BUILD_DIR SOURCE_DIR MAN(ON|OFF) COMPLETION_DIR
# Status 77 (skipped) when help2man or bash-completion is missing, but only
# outside CI: under CI=true that is a failure (.ci/deps installs both).
set -u
CMAKE=$1 MAN=$4 COMPDIR=$5
B=$(cd "$2" && pwd) SRC=$(cd "$3" && pwd) || exit 1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
P=$T/prefix
fails=0 skipped=""
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
missing() {
	if [ -n "${CI:-}" ]; then
		fail "$1 missing (under CI it must be installed: .ci/deps)"
	else
		echo "SKIP: $1 missing"
		skipped=1
	fi
}

"$CMAKE" --install "$B" --prefix "$P" >"$T/log" 2>&1 ||
	{ cat "$T/log"; echo "FAIL: cmake --install"; exit 1; }

# The binary, from the prefix, in a folder with nothing else: the presets are
# compiled in and a scenario replays.
COWSIM=$P/bin/cowsim
mkdir "$T/cwd" && cd "$T/cwd" || exit 1
[ -x "$COWSIM" ] || fail "no $COWSIM"
"$COWSIM" --help >/dev/null || fail "cowsim --help from the prefix"
"$COWSIM" policies >"$T/policies" || fail "cowsim policies from the prefix"
grep -q '^linux-6.12 ' "$T/policies" || fail "installed cowsim lacks linux-6.12"
cp "$SRC/traces/scenarios/cow-01-basic.scn" .
"$COWSIM" check cow-01-basic.scn >/dev/null || fail "installed cowsim: check"
"$COWSIM" replay cow-01-basic.scn --no-db --quiet >/dev/null ||
	fail "installed cowsim: replay"

# Presets, byte for byte; the docs.
for f in "$SRC"/configs/*.ini; do
	cmp -s "$f" "$P/share/cowsim/presets/${f##*/}" ||
		fail "preset ${f##*/} not installed in share/cowsim/presets"
done
D=$P/share/doc/cowsim
cmp -s "$SRC/README.md" "$D/README.md" || fail "README.md not in $D"
for f in "$SRC"/docs/*.md; do
	cmp -s "$f" "$D/docs/${f##*/}" || fail "docs/${f##*/} not in $D/docs"
done

# The completion script; its _cowsim_verbs is also the verb list the man
# pages are checked against (from `cowsim --help`, as cmake/manpages.sh).
case $COMPDIR in
/*) comp=$COMPDIR/cowsim ;;
*) comp=$P/$COMPDIR/cowsim ;;
esac
[ -f "$comp" ] || fail "no bash completion at $comp"
# shellcheck source=/dev/null
. "$comp" || fail "sourcing $comp"
verbs=$(_cowsim_verbs "$COWSIM")
[ "$(echo "$verbs" | wc -l)" -ge 8 ] || fail "verbs from cowsim --help: '$verbs'"

# The man pages: cowsim.1 and cowsim-VERB.1 for each verb, nothing else;
# `man cowsim-replay` finds its page once PREFIX/bin is on PATH.
M=$P/share/man/man1
if [ "$MAN" = ON ]; then
	want=$(printf 'cowsim.1\n%s\n' "$(echo "$verbs" | sed 's/^/cowsim-/; s/$/.1/')" | sort)
	have=$(cd "$M" && printf '%s\n' * | sort)
	[ "$want" = "$have" ] || fail "man pages: want $want, have $have"
	for f in "$M"/*.1; do
		n=${f##*/}; n=${n%.1}
		groff -man -Tutf8 -ww -z "$f" 2>"$T/warn" || fail "groff failed on $n.1"
		[ -s "$T/warn" ] && fail "$n.1: groff warns: $(head -3 "$T/warn")"
		for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
			grep -q "^\.SH \"*$s\"*\$" "$f" || fail "$n.1 has no $s section"
		done
		grep -q "^\.TH $(echo "$n" | tr '[:lower:]' '[:upper:]') \"1\"" "$f" || fail "$n.1: wrong .TH"
		lexgrog "$f" | grep -q "\"$n - [a-z]" || fail "$n.1: NAME does not parse (lexgrog)"
	done
	# as after --prefix ~/.local: man-db finds PREFIX/share/man from PATH
	(unset MANPATH; PATH=$P/bin:$PATH MANWIDTH=80 man cowsim-replay) >"$T/man" 2>&1 ||
		fail "man cowsim-replay"
	grep -q "cowsim-replay - replay traces" "$T/man" || fail "man cowsim-replay: $(head -5 "$T/man")"
	grep -q "EXAMPLES" "$T/man" || fail "man cowsim-replay has no EXAMPLES"
else
	missing "help2man (no man pages were built)"
fi

# The completion, loaded as bash-completion loads it (from the prefix's
# share/ in XDG_DATA_DIRS, on the first <TAB>) and run on command lines.
BC=/usr/share/bash-completion/bash_completion
if [ -f "$BC" ]; then
	# shellcheck source=/dev/null
	. "$BC"
	complete -r cowsim 2>/dev/null
	XDG_DATA_DIRS=$P/share __load_completion cowsim ||
		fail "bash-completion does not find $comp under XDG_DATA_DIRS=\$prefix/share"
	complete -p cowsim 2>/dev/null | grep -q -- '-F _cowsim' ||
		fail "no completion for cowsim after loading"
	PATH=$P/bin:$PATH
	: >trace-one.dat
	# comp WORD... : COMPREPLY for the line, the cursor at the end of the last word
	comp() {
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_cowsim cowsim "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf '%s\n' "${COMPREPLY[@]}"
	}
	# expect_comp WANT WORD... : WANT is one of the completions
	expect_comp() {
		want=$1; shift
		comp "$@" | grep -qx -- "$want" ||
			fail "completing '$*' does not offer '$want': $(comp "$@" | tr '\n' ' ')"
	}
	expect_comp replay cowsim rep
	expect_comp report cowsim rep
	for v in $verbs; do expect_comp "$v" cowsim ""; done
	expect_comp --policy cowsim replay --pol
	expect_comp --faults cowsim replay trace-one.dat --fa
	expect_comp --input-format cowsim dump --inp
	expect_comp linux-6.12 cowsim replay --policy linux-6
	expect_comp linux-6.12 cowsim replay -p linux-6
	expect_comp linux-5.9,linux-6.12 cowsim replay --policy linux-5.9,linux-6
	expect_comp all cowsim compare --policy a
	expect_comp on-demand cowsim replay --fork-mode on
	expect_comp copy,async cowsim replay --fork-mode copy,a
	expect_comp trace-one.dat cowsim replay trace-
	expect_comp compare cowsim help comp
	[ "$(comp cowsim replay --pol | wc -l)" = 1 ] ||
		fail "cowsim replay --pol<TAB> offers more than --policy"
else
	missing "bash-completion ($BC)"
fi

[ "$fails" = 0 ] || exit 1
[ -z "$skipped" ] || exit 77
echo "install: ok"
