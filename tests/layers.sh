#!/bin/sh
# layers.sh - the house points one way: fail if an include or a call climbs.
#
#   lib/  <-  importers/, sim/  <-  reports/  <-  cli/
#
# importers/ and sim/ stand side by side and stay apart; the event stream is
# their contract: sim/ may include importers/ev.h and importers/evsrc.h and
# link the two files behind them (the cowsim_ev library), nothing else of
# importers/.  docs/architecture.md explains why.
#
# Includes are read from the sources (each #include "..." resolved against
# the including file's folder, then the top of the tree); calls from the
# layer libraries' symbol tables: a library's undefined symbols must not be
# defined by a library beside or above it.
#
# usage: tests/layers.sh SRCDIR LIB.a EV.a IMPORTERS.a SIM.a REPORTS.a COWSIM
#   (the layers' static libraries, then the program, whose own symbols are cli/'s)
set -eu
SRC=$1
LIB_A=$2 EV_A=$3 IMP_A=$4 SIM_A=$5 REP_A=$6 EXE=$7
cd "$SRC"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/bad"

# What a layer may include: folders, or single files of another folder.
may_include() {
	case "$1" in
	lib) echo "lib" ;;
	importers) echo "lib importers" ;;
	sim) echo "lib sim importers/ev.h importers/evsrc.h" ;;
	reports) echo "lib importers sim reports" ;;
	cli) echo "lib importers sim reports cli" ;;
	esac
}

nfiles=0
for layer in lib importers sim reports cli; do
	allowed=$(may_include $layer)
	for f in $layer/*.c $layer/*.h; do
		[ -e "$f" ] || continue
		nfiles=$((nfiles + 1))
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' > "$tmp/inc" || true
		while read -r line inc; do
			dir=$(dirname "$f")
			if [ -e "$dir/$inc" ]; then
				target=$(realpath -m --relative-to=. "$dir/$inc")
			elif [ -e "$inc" ]; then
				target=$(realpath -m --relative-to=. "$inc")
			else
				continue   # generated (build folder) or not ours
			fi
			tlayer=${target%%/*}
			ok=0
			for a in $allowed; do
				if [ "$a" = "$tlayer" ] || [ "$a" = "$target" ]; then
					ok=1
				fi
			done
			if [ $ok = 0 ]; then
				echo "layers: $f:$line includes $target, but $layer/ may include only: $allowed" |
					tee -a "$tmp/bad"
			fi
		done < "$tmp/inc"
	done
done
[ $nfiles -gt 20 ] || { echo "layers: only $nfiles source files found under $SRC"; exit 1; }

NM=nm
command -v gcc-nm >/dev/null 2>&1 && NM=gcc-nm
for l in LIB EV IMP SIM REP; do
	eval a=\$${l}_A
	$NM -g --defined-only "$a" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u > "$tmp/$l.def"
	$NM -g --undefined-only "$a" 2>/dev/null | awk '{print $NF}' | sort -u > "$tmp/$l.und"
	[ -s "$tmp/$l.def" ] || { echo "layers: no symbols read from $a"; exit 1; }
done
# cli/'s symbols: what the program defines that no library does.
# Data a shared library exports and a non-PIE program copies into itself
# (a copy relocation: libinih's ini_max_line in the sanitizer build) is the
# library's, not cli's.
objdump -R "$EXE" 2>/dev/null | awk '$2 == "R_X86_64_COPY" {sub(/@.*/, "", $3); print $3}' |
	sort -u > "$tmp/copied"
$NM --defined-only "$EXE" | awk 'NF==3 && $2 ~ /^[TtDdBbRr]$/ && $3 !~ /^_/ {print $3}' |
	sort -u | comm -23 - "$tmp/copied" > "$tmp/exe.def"
cat "$tmp"/LIB.def "$tmp"/EV.def "$tmp"/IMP.def "$tmp"/SIM.def "$tmp"/REP.def | sort -u |
	comm -23 "$tmp/exe.def" - > "$tmp/CLI.def"
grep -q '^cmd_replay$' "$tmp/CLI.def" || { echo "layers: cli's symbols not found in $EXE"; exit 1; }
# A library must not call what a library beside or above it defines.
calls() {
	name=$1; shift
	for other in "$@"; do
		comm -12 "$tmp/$name.und" "$tmp/$other.def" | while read -r s; do
			echo "layers: $name calls $s, defined in $other, which is not below it" |
				tee -a "$tmp/bad"
		done
	done
}
calls LIB EV IMP SIM REP CLI
calls EV IMP SIM REP CLI
calls IMP SIM REP CLI
calls SIM IMP REP CLI
calls REP CLI
n=$(wc -l < "$tmp/bad")
echo "layers: $nfiles files, 5 libraries and the program checked, $n crossing(s) upward or sideways"
[ "$n" = 0 ]
