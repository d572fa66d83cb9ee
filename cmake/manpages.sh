#!/bin/sh
# manpages.sh - write cowsim.1 and one cowsim-VERB.1 per verb (as git and
# perf have) from the program's own help text, with help2man, at build time.
#
# usage: manpages.sh COWSIM HELP2MAN OUTDIR VERSION_C DESCRIPTION PRESETS DOCS
#   COWSIM     the built binary
#   OUTDIR     replaced by the pages (and nothing else)
#   VERSION_C  lib/version.h's generated source: the version when the
#              binary has no --version
#   DESCRIPTION  cowsim.1's NAME line
#   PRESETS, DOCS  where the presets and the docs are installed, relative
#              to the prefix (which `cmake --install --prefix` may change)
#
# The verbs are read from `cowsim --help` (its "verbs:" list, printed from
# cli/cowsim.c's commands[]), so a new verb gets its page with no edit here
# and no second list can drift.  help2man expects GNU-style help ("Usage:",
# continuation lines under it, "Examples:"); cowsim's help is written for
# the terminal ("usage:", wrapped synopsis, "examples:"), so each text is
# captured once, normalised with awk, and handed to help2man through a
# two-line script named as the page (cowsim-replay), since help2man names
# the page after the program it runs.  Exit status 1, with a message, if the
# binary or help2man fails or no verb is found: a build step, not a guess.
set -eu
cowsim=$1 help2man=$2 out=$3 version_c=$4 description=$5 presets=$6 docs=$7

die() { echo "manpages.sh: $*" >&2; exit 1; }

# Prefer the binary's own --version ("cowsim VERSION"); until it has one,
# the string cmake/version.cmake wrote.
if v=$("$cowsim" --version 2>/dev/null) && [ "${v%% *}" = cowsim ]; then
	version=$(printf '%s\n' "${v#cowsim }" | head -n 1)
else
	version=$(sed -n 's/.*return "\(.*\)";.*/\1/p' "$version_c")
fi
[ -n "$version" ] || die "no version from '$cowsim --version' or $version_c"

rm -rf "$out"
mkdir -p "$out/help"
"$cowsim" --help >"$out/help/cowsim.txt" || die "'$cowsim --help' failed"
# "verbs:" up to the next blank line: "  NAME   one-line description".
awk '/^[^ ].*:$/ { in_verbs = (tolower($0) ~ /^(verbs|commands):$/); next }
     /^[ \t]*$/ { in_verbs = 0; next }
     in_verbs && /^  +[a-z][a-z0-9-]*  +[^ ]/ {
	name = $1; sub(/^ +[^ ]+ +/, ""); print name "\t" $0 }' \
	"$out/help/cowsim.txt" >"$out/help/verbs"
[ -s "$out/help/verbs" ] || die "no verbs: list in '$cowsim --help'"

# Normalise one help text for help2man: each synopsis on one line, the
# first after "Usage:", the others (lines that start with "cowsim" again)
# after "or:"; "Examples:"; and each example
# command behind a "$ " so that it is set in constant width.
normalise() {
	awk 'state == 0 && tolower($0) ~ /^usage:/ {
		line = "Usage:" substr($0, 7); state = 1; next }
	state == 1 {
		if ($0 ~ /^[ \t]*$/) { print line; print ""; state = 2; next }
		sub(/^[ \t]+/, "")
		if ($0 ~ /^(or: +)?cowsim /) {
			print line; sub(/^or: +/, ""); line = "  or: " $0 }
		else line = line " " $0
		next }
	tolower($0) ~ /^examples?:$/ { print "Examples:"; ex = 1; next }
	/^[ \t]*$/ { ex = 0 }
	ex && /^  +cowsim / { sub(/^ +/, "  $ ") }
	{ print }
	END { if (state == 1) print line }'
}

# see_also SELF: the SEE ALSO and, for cowsim.1, FILES sections.
see_also() {
	{
		if [ "$1" = cowsim ]; then
			cat <<-EOF
			[FILES]
			Under the prefix cowsim is installed in (\fI/usr/local\fR, \fI/usr\fR,
			\fI~/.local\fR, ...):
			.TP
			.I $presets/*.ini
			The policy and cost presets.  The same presets are compiled into
			.BR cowsim ;
			these copies are the reference to copy and edit into a
			.B \-\-config
			or
			.B \-\-cost
			file of your own.
			.TP
			.I $docs
			README.md and docs/*.md: the model, the store, the importers.
			EOF
		fi
		printf '[SEE ALSO]\n'
		{ echo cowsim; cut -f1 "$out/help/verbs" | sed 's/^/cowsim-/'; } |
			grep -vx "$1" | sed 's/$/ (1)/; s/^/.BR /; $!s/$/,/'
	}
}

page() { # NAME DESCRIPTION: $out/help/NAME.txt to $out/NAME.1
	printf '#!/bin/sh\nexec cat "%s"\n' "$out/help/$1.norm" >"$out/help/$1"
	chmod +x "$out/help/$1"
	normalise <"$out/help/$1.txt" >"$out/help/$1.norm"
	see_also "$1" >"$out/help/$1.h2m"
	"$help2man" -N -n "$2" -S "cowsim $version" --version-string="$version" \
		-i "$out/help/$1.h2m" -o "$out/$1.1" "$out/help/$1" ||
		die "help2man failed on $1"
}

page cowsim "$description"
while IFS='	' read -r verb what; do
	if ! "$cowsim" "$verb" --help >"$out/help/cowsim-$verb.txt" ||
		[ ! -s "$out/help/cowsim-$verb.txt" ]; then
		die "'$cowsim $verb --help' failed or printed nothing on stdout"
	fi
	page "cowsim-$verb" "$what"
done <"$out/help/verbs"
