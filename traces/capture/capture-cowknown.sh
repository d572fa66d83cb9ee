#!/bin/bash
# capture-cowknown.sh: record the known-outcome program (cowknown.c) in the
# three formats.  Every write fault it takes is followed by a
# "cowsim: expect pid=P va=0xA outcome=..." marker that says what pagemap saw,
# which is what the importer's copy/reuse labels are tested against.
# Run as root:  traces/capture/capture-cowknown.sh   (FORMATS="dat" to redo one)
NAME=cowknown
ROOT_EXE=cowknown
source "$(dirname "$(readlink -f "$0")")/lib.sh"

workload() {
	"$LAUNCH" --marker "$COWSIM_MARKER" --meta capture=$NAME -- \
		"$COWKNOWN" --marker "$COWSIM_MARKER" --pages "${COWKNOWN_PAGES:-32}" \
		--dir "$COWSIM_WORK" >"$COWSIM_WORK/notes.$COWSIM_FMT.out"
	{
		echo "### cowknown summary ($COWSIM_FMT run; intent vs pagemap outcome)"
		cat "$COWSIM_WORK/notes.$COWSIM_FMT.out"
	} >"$COWSIM_WORK/notes.$COWSIM_FMT"
	rm -f "$COWSIM_WORK/notes.$COWSIM_FMT.out"
	cat "$COWSIM_WORK/notes.$COWSIM_FMT" >&2
}

cow_main "$@"
