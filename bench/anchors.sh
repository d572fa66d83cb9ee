#!/bin/sh
# anchors.sh - cowsim's fork model against the published fork figures
# (docs/bench.md, "The fork designs against their papers").
#
# Each paper's headline setup as a scenario: one process populates 1 GiB
# of anonymous memory in 4 KiB pages (MADV_NOHUGEPAGE, as every one of the
# papers measured), forks, and the child exits 100 ms later.  Replayed under linux-6.12
# with fork_mode copy, on-demand and async (`--fork-mode all`), with each
# cost preset, and printed next to the published figure:
#   - Hildenbrand, "[PATCH v1 00/11] mm/memory: optimize fork() with
#     PTE-mapped THP" (22 Jan 2024): fork of 1 GiB of 4 KiB pages, 14.33 ms
#     on v6.8-rc1, Xeon Silver 4210R;
#   - redis.io, latency documentation, "Fork time in different systems":
#     9-13 ms per GB on bare metal and VMware;
#   - Zhao, Gong, Fonseca, On-demand-fork (EuroSys 2021): 65x faster fork
#     than fork() at 1 GB;
#   - Chih-En Lin, "[PATCH v3 00/14] Introduce Copy-On-Write to Page Table"
#     (20 Dec 2022): the child's VmPTE after forking 1 GB, 2,096 kB with
#     fork(), 44 kB with COW PTE;
#   - Async-fork (Pang et al., PVLDB 16(5) 2023): the parent returns once
#     the upper levels are copied; the child copies the PTE tables (no
#     single published ratio of fork time: its headline is query latency,
#     so cowsim's parent-visible time and the child's background time are
#     printed for it).
#
# usage: bench/anchors.sh [COWSIM]   (default: build/cowsim)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
COWSIM=${1:-$ROOT/build/cowsim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

PAGES=262144   # 1 GiB of 4 KiB pages
cat >"$T/fork-1g.scn" <<EOF
scenario "fork of a process with 1 GiB of 4 KiB pages populated"
process P
mmap P mem $PAGES
write P mem $PAGES
fork P C
sleep 100000000                 # 100 ms: an async child copies all it has
exit C
EOF

# metric NAME POLICY FILE: one metric of one run of a csv replay
metric() {
	awk -F, -v m="$1" -v p="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["policy"] == p { print $col[m] }' "$3"
}

for cost in x86-64 vm; do
	"$COWSIM" replay "$T/fork-1g.scn" --no-db -q -p linux-6.12 \
		--fork-mode all --cost $cost -f csv >"$T/$cost.csv"
done

ms() { awk -v n="$1" 'BEGIN { printf "%.2f ms", n / 1e6 }'; }
us() { awk -v n="$1" 'BEGIN { printf "%.1f us", n / 1e3 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

printf '%-48s %-22s %-24s %-24s\n' "anchor" "published" "cowsim, cost x86-64" "cowsim, cost vm"
row() { printf '%-48s %-22s %-24s %-24s\n' "$1" "$2" "$3" "$4"; }

for cost in x86-64 vm; do
	f=$T/$cost.csv
	cost=$(echo "$cost" | tr - _)
	eval "copy_$cost=\$(metric fork_latency_ns_max linux-6.12 $f)"
	eval "odf_$cost=\$(metric fork_latency_ns_max linux-6.12+on-demand $f)"
	eval "async_$cost=\$(metric fork_latency_ns_max linux-6.12+async $f)"
	eval "child_$cost=\$(metric fm_child_ns linux-6.12+async $f)"
	eval "ptc_$cost=\$(metric pt_pages_copied linux-6.12 $f)"
	eval "pto_$cost=\$(metric pt_pages_copied linux-6.12+on-demand $f)"
done
# 1 GiB is 1.073741824 GB
gb=1.073741824
row "fork, 1 GiB of 4 KiB pages (Hildenbrand)" "14.33 ms" \
	"$(ms "$copy_x86_64")" "$(ms "$copy_vm")"
row "fork per GB (Redis, bare metal / VMware)" "9-13 ms" \
	"$(ms "$(awk -v n="$copy_x86_64" -v g=$gb 'BEGIN { print n / g }')")" \
	"$(ms "$(awk -v n="$copy_vm" -v g=$gb 'BEGIN { print n / g }')")"
row "on-demand fork, 1 GiB" "-" "$(us "$odf_x86_64")" "$(us "$odf_vm")"
row "fork / on-demand fork, 1 GiB (On-demand-fork)" "65x" \
	"$(ratio "$copy_x86_64" "$odf_x86_64")" "$(ratio "$copy_vm" "$odf_vm")"
row "child page tables, fork (COW PTE v3)" "2,096 kB" \
	"$((ptc_x86_64 * 4)) kB" "$((ptc_vm * 4)) kB"
row "child page tables, COW PTE / on-demand" "44 kB" \
	"$((pto_x86_64 * 4)) kB" "$((pto_vm * 4)) kB"
row "  ratio" "47.6x" "$(ratio "$ptc_x86_64" "$pto_x86_64")" \
	"$(ratio "$ptc_vm" "$pto_vm")"
row "async fork, parent-visible, 1 GiB" "-" "$(us "$async_x86_64")" "$(us "$async_vm")"
row "async fork, child's background copy" "-" "$(ms "$child_x86_64")" "$(ms "$child_vm")"
row "fork / async fork (parent-visible)" "-" \
	"$(ratio "$copy_x86_64" "$async_x86_64")" "$(ratio "$copy_vm" "$async_vm")"
