#!/usr/bin/env python3
"""pfn-scatter.py - does the scatter of a parent's frames explain what its
fork costs per PTE? The test of issue 11's suggestion (docs/costs.md, "The
terms the data asked for"), run on the bundled trace-cmd captures.

  bench/pfn-scatter.py traces/real/forksweep.dat.zst traces/real/redis-bgsave.dat ...

The hypothesis: copy_present_pte() (mm/memory.c) takes a reference on each
copied page's struct page (folio_try_dup_anon_rmap_pte(), folio_get()), so a
fork whose frames are near-sequential walks the vmemmap sequentially
(prefetched, one TLB entry for many pages) while one whose frames lie all
over RAM misses the cache - or, in a VM, the host's TLB - at every PTE.

For each process the script keeps its resident anonymous pages, virtual page
-> PFN, from each page fault paired with the GFP_HIGHUSER_MOVABLE
mm_page_alloc of the same thread before that thread's next fault (as
bench/tracemix.py and the importers pair them; an order-n allocation maps
2^n pages), dropped at munmap and exit_mmap/exec, copied to the child at a
fork (task_newtask without CLONE_VM; threads share their leader's). At each
fork it takes the parent's pages in address order - the order
copy_page_range() copies them - and counts a *break* where a PFN is more
than 64 from the previous page's: 64 struct pages of 64 bytes are one 4 KiB
vmemmap page, the span a hardware prefetcher follows and one TLB entry
covers; a distance of 1 or 8 gives ratios within 0.03 of these on the
bundled traces except Redis's (0.34 at 1, 0.15 at 64) and Python's (0.55,
0.48), which does not change the answer. Its latency is the parent's clone/fork/clone3 syscall, sys_enter to sys_exit.

Prints one line per forksweep shape (the last `cowsim: phase` marker before
the fork) or per other program (its comm): forks of at least MIN_PTES
(400) pages, medians of PTEs, latency, ns per PTE and break ratio; then a
least-absolute-deviation fit of latency = base + a*PTEs + b*breaks over the
forksweep `size-*` shapes (one anonymous region of 1 to 256 MiB, nothing
else changes), and what it predicts for every other program's forks.
The counted PTEs are the anonymous pages the trace saw allocated; they
match `cowsim calibrate -v`'s PTE column within 1.2% for forksweep, Redis
and Python. They overcount a program with shared memory (PostgreSQL's
buffers are faulted like anonymous pages, but fork copies no PTE of a
shared area), so its line is shown but is not evidence.
Needs trace-cmd (and zstd for .zst files).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

MIN_PTES = 400
BREAK = 64
FORK_NR = {56, 57, 58, 435}         # x86-64 clone, fork, vfork, clone3
CLONE_VM, CLONE_THREAD = 0x100, 0x10000
LINE = re.compile(r'^\s*(.+?)-(\d+)\s+\[\d+\]\s+([\d.]+):\s+(\w+):\s+(.*)$')


def field(text, key, base=16):
    return int(text.split(key, 1)[1].split()[0].rstrip(','), base)


def report_lines(path):
    """trace-cmd report needs a seekable trace.dat: a .zst is unpacked."""
    tmp = None
    if path.endswith('.zst'):
        fd, tmp = tempfile.mkstemp(suffix='.dat')
        with os.fdopen(fd, 'wb') as out:
            subprocess.run(['zstd', '-dcq', path], stdout=out, check=True)
        path = tmp
    try:
        p = subprocess.Popen(['trace-cmd', 'report', '-i', path],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        yield from p.stdout
        if p.wait():
            sys.exit(f'{path}: trace-cmd report failed')
    finally:
        if tmp:
            os.unlink(tmp)


def forks(path):
    """[(label, latency ns, {virtual page: pfn} of the parent)]"""
    tgid, mm, fault, entered, at_fork, out = {}, {}, {}, {}, {}, []
    phase = '-'

    def pages(pid):
        return mm.setdefault(tgid.get(pid, pid), {})
    for line in report_lines(path):
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, ts, ev, rest = m.groups()
        pid, ts = int(pid), float(ts)
        if ev == 'print' and 'cowsim: phase ' in rest:
            phase = rest.split('cowsim: phase ', 1)[1].split()[0]
        elif ev in ('page_fault_user', 'page_fault_kernel'):
            a = field(rest, 'address=')
            if a < 1 << 47:
                fault[pid] = a >> 12
            else:
                fault.pop(pid, None)
        elif ev == 'mm_page_alloc':
            if 'GFP_HIGHUSER_MOVABLE' in rest and pid in fault:
                pfn, order = field(rest, 'pfn='), field(rest, 'order=', 10)
                v = fault.pop(pid) & ~((1 << order) - 1)
                d = pages(pid)
                for i in range(1 << order):
                    d[v + i] = pfn + i
        elif ev == 'sys_enter_munmap':
            lo = field(rest, 'addr:') >> 12
            hi = lo + (field(rest, 'len:') + 4095 >> 12)
            d = pages(pid)
            for v in [v for v in d if lo <= v < hi]:
                del d[v]
        elif ev in ('exit_mmap', 'sched_process_exec'):
            mm[tgid.get(pid, pid)] = {}
        elif ev == 'task_newtask':
            child, flags = field(rest, 'pid=', 10), field(rest, 'clone_flags=')
            tgid[child] = tgid.get(pid, pid) if flags & CLONE_THREAD else child
            if not flags & CLONE_VM:
                mm[child] = dict(pages(pid))
                at_fork[pid] = mm[child]
        elif ev == 'sys_enter' and int(rest.split()[1]) in FORK_NR:
            entered[pid] = ts
        elif ev == 'sys_exit' and int(rest.split()[1]) in FORK_NR:
            t0, snap = entered.pop(pid, None), at_fork.pop(pid, None)
            if t0 is not None and snap and len(snap) >= MIN_PTES:
                label = phase if comm.startswith('forksweep') else comm
                out.append((label, (ts - t0) * 1e9, dict(snap)))
    return out


def breaks(snap):
    vs = sorted(snap)
    return sum(abs(snap[b] - snap[a]) > BREAK for a, b in zip(vs, vs[1:]))


def solve(a, b):
    n = len(b)
    m = [a[i][:] + [b[i]] for i in range(n)]
    for i in range(n):
        p = max(range(i, n), key=lambda r: abs(m[r][i]))
        m[i], m[p] = m[p], m[i]
        for r in range(n):
            if r != i:
                f = m[r][i] / m[i][i]
                m[r] = [x - f * y for x, y in zip(m[r], m[i])]
    return [m[i][n] / m[i][i] for i in range(n)]


def lad(x, y):
    """least absolute deviations by iteratively reweighted least squares
    (a preempted fork moves it no more than any other fork that is off)"""
    k, w = len(x[0]), [1.0] * len(y)
    for _ in range(100):
        c = solve([[sum(w[j] * x[j][p] * x[j][q] for j in range(len(y)))
                    for q in range(k)] for p in range(k)],
                  [sum(w[j] * x[j][p] * y[j] for j in range(len(y)))
                   for p in range(k)])
        w = [1 / max(abs(y[j] - sum(c[p] * x[j][p] for p in range(k))), 1e3)
             for j in range(len(y))]
    return c


def main(paths):
    rows = []
    for path in paths:
        for label, ns, snap in forks(path):
            rows.append((os.path.basename(path), label, len(snap), ns,
                         breaks(snap)))
    groups = {}
    for r in rows:
        groups.setdefault(r[:2], []).append(r)
    print(f"{'trace':24} {'shape/program':22} {'forks':>5} {'PTEs':>6} "
          f"{'lat us':>8} {'ns/PTE':>7} {'breaks/PTE':>10}")
    for (trace, label), rs in sorted(groups.items()):
        def med(f):
            return statistics.median(f(r) for r in rs)
        print(f'{trace:24} {label:22} {len(rs):5d} {med(lambda r: r[2]):6.0f} '
              f'{med(lambda r: r[3]) / 1e3:8.1f} '
              f'{med(lambda r: r[3] / r[2]):7.1f} '
              f'{med(lambda r: r[4] / r[2]):10.2f}')
    size = [r for r in rows if r[1].startswith('size-')]
    if len(size) < 3:
        return
    c = lad([[1, r[2], r[4]] for r in size], [r[3] for r in size])
    print(f'\nLAD fit on {len(size)} forks of the size-* shapes: base '
          f'{c[0]:.0f} ns, per PTE {c[1]:.1f} ns, per break {c[2]:.1f} ns')
    for trace, label, n, ns, b in rows:
        if label.startswith(('size-', 'sparse-', 'dense-')):
            continue
        model = c[0] + c[1] * n + c[2] * b
        print(f'{trace} {label}: {n} PTEs, {b} breaks, observed '
              f'{ns / 1e3:.0f} us, fit {model / 1e3:.0f} us '
              f'({100 * (model / ns - 1):+.0f}%)')


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
