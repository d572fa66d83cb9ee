#!/usr/bin/env python3
"""tracemix.py - the shape of a workload's page-fault stream, for calibrating
`cowsim synth` against the bundled real traces (docs/bench.md).

  tracemix.py traces/real/NAME.ftrace.txt.zst ROOT_BINARY   a real trace
  cowsim dump FILE.ev | tracemix.py - synth                 a synth stream

Real traces are read as ftrace text; only the workload tree counts (the
first exec of ROOT_BINARY and everything forked from it), as in
traces/real/README.md.  A fault is classified by its x86 error code and by
whether the kernel allocated a page for it (an mm_page_alloc of the same
pid before that pid's next fault):

  read-miss   not present, read (0x4): zero page or page cache
  ifetch      instruction fetch (0x14/0x15)
  first-write not present, write, allocation (0x6 + alloc)
  cow-copy    present, write (0x7) + allocation: a COW copy
  wp-reuse    present, write (0x7) without allocation: reuse in place

The synth stream has no allocation events; there the dump's own fault
flags give read/ifetch/write/prot-write, and the engine's replay metrics
give copies vs reuses (docs/bench.md quotes both).

Locality: for consecutive faults of one thread, the share whose page is
within 1, 16 and 512 pages of the previous one; burst: the mean run length
of faults by the same thread in the tree's fault sequence.  Fork: present
pages of the parent at fork are estimated as the distinct pages the tree
allocated for it (faults with an allocation) and its ancestors, which
undercounts pages mapped before the trace began.
"""
import re
import subprocess
import sys
from collections import defaultdict

FAULT = re.compile(r'^\s*(\S.*?)-(\d+)\s.*?\s(\d+\.\d+): page_fault_user: '
                   r'address=(0x[0-9a-f]+) ip=\S+ error_code=(0x[0-9a-f]+)')
LINE = re.compile(r'^\s*(\S.*?)-(\d+)\s.*?\s(\d+\.\d+): (\w+)(?:: |\()(.*)$')


def open_text(path):
    if path == '-':
        return sys.stdin
    if path.endswith('.zst'):
        p = subprocess.Popen(['zstdcat', path], stdout=subprocess.PIPE,
                             text=True)
        return p.stdout
    return open(path)


class Stats:
    def __init__(self):
        self.faults = 0
        self.kind = defaultdict(int)
        self.forks = self.vforks = self.threads = self.execs = 0
        self.exits = self.munmaps = self.madvises = self.mmaps = 0
        self.brks = self.gups = 0
        self.fork_ptes = []
        self.near = defaultdict(lambda: [0, 0, 0])
        self.pairs = defaultdict(int)
        self.runs = 0
        self.last_tid = None
        self.prev_pg = {}

    def fault(self, tid, pg, cls):
        self.faults += 1
        if tid != self.last_tid:
            self.runs += 1
            self.last_tid = tid
        p = self.prev_pg.get(tid)
        if p is not None:
            d = abs(pg - p)
            for c in ('all', cls):
                self.pairs[c] += 1
                for i, lim in enumerate((1, 16, 512)):
                    if d <= lim:
                        self.near[c][i] += 1
        self.prev_pg[tid] = pg

    def report(self, name):
        f = self.faults or 1
        print(f'== {name}')
        print(f'faults {self.faults}')
        for k in sorted(self.kind):
            print(f'  {k:12s} {self.kind[k]:8d}  {100.0 * self.kind[k] / f:5.1f}%')
        print(f'forks {self.forks} vforks {self.vforks} threads {self.threads} '
              f'execs {self.execs} exits {self.exits}')
        print(f'faults per fork (non-VM) {self.faults / self.forks:.0f}'
              if self.forks else 'faults per fork (non-VM) -')
        if self.fork_ptes:
            tot = sum(self.fork_ptes)
            print(f'parent pages at fork (est.) {self.fork_ptes}; '
                  f'PTEs copied per fault {tot / f:.3f}')
        print(f'per 1000 faults: mmap {1000 * self.mmaps / f:.2f} '
              f'munmap {1000 * self.munmaps / f:.2f} '
              f'madvise {1000 * self.madvises / f:.2f} '
              f'brk {1000 * self.brks / f:.2f} gup {1000 * self.gups / f:.2f}')
        for c in sorted(self.pairs):
            pr, n = self.pairs[c], self.near[c]
            print(f'{c:10s} faults: same-thread previous fault within 1/16/512 '
                  f'pages: {100.0 * n[0] / pr:.1f}% / {100.0 * n[1] / pr:.1f}% / '
                  f'{100.0 * n[2] / pr:.1f}%')
        print(f'mean burst (faults of one thread in a row) {self.faults / max(self.runs, 1):.1f}')


def real(path, root):
    st = Stats()
    tree = set()          # pids in the workload tree
    mm_of = {}            # pid -> address-space id
    pages = defaultdict(set)   # mm -> pages allocated for it
    pending = {}          # pid -> (kind, page) of its last fault, no alloc yet
    next_mm = [0]
    ptes_note = {}

    def new_mm():
        next_mm[0] += 1
        return next_mm[0]

    def settle(pid):
        k = pending.pop(pid, None)
        if k:
            st.kind[k[0]] += 1

    for line in open_text(path):
        m = LINE.match(line)
        if not m:
            continue
        pid = int(m.group(2))
        ev, rest = m.group(4), m.group(5)
        if ev == 'sched_process_exec':
            fn = re.search(r'filename=(\S+)', rest).group(1)
            if not tree and fn == root:
                tree.add(pid)
                mm_of[pid] = new_mm()
            elif pid in tree:
                st.execs += 1
                mm_of[pid] = new_mm()
            continue
        if not tree:
            continue
        if ev == 'task_newtask' and pid in tree:
            c = int(re.search(r'pid=(\d+)', rest).group(1))
            fl = int(re.search(r'clone_flags=([0-9a-f]+)', rest).group(1), 16)
            tree.add(c)
            if fl & 0x10000:
                st.threads += 1
                mm_of[c] = mm_of[pid]
            elif fl & 0x100:
                st.vforks += 1
                mm_of[c] = mm_of[pid]
            else:
                st.forks += 1
                mm_of[c] = new_mm()
                pages[mm_of[c]] = set(pages[mm_of[pid]])
                st.fork_ptes.append(len(pages[mm_of[pid]]))
            continue
        if pid not in tree:
            continue
        if ev == 'page_fault_user':
            settle(pid)
            addr = int(re.search(r'address=(0x[0-9a-f]+)', rest).group(1), 16)
            ec = int(re.search(r'error_code=(0x[0-9a-f]+)', rest).group(1), 16)
            pg = addr >> 12
            st.fault(pid, pg, 'prot' if ec & 1 else 'notpresent')
            if ec & 0x10:
                k = 'ifetch'
            elif ec & 0x2:
                k = 'cow?' if ec & 0x1 else 'first-write?'
            else:
                k = 'read-miss'
            if k.endswith('?'):
                pending[pid] = (k, pg)
            else:
                st.kind[k] += 1
        elif ev == 'mm_page_alloc':
            k = pending.pop(pid, None)
            if k:
                st.kind['cow-copy' if k[0] == 'cow?' else 'first-write'] += 1
                pages[mm_of.get(pid, 0)].add(k[1])
        elif ev == 'sched_process_exit':
            settle(pid)
            st.exits += 1
        elif ev.startswith('sys_') and not ev.startswith('sys_e'):
            # syscall entries print as sys_NAME(args); returns as sys_NAME -> r
            name = ev[len('sys_'):]
            if name == 'munmap':
                st.munmaps += 1
            elif name == 'madvise':
                st.madvises += 1
            elif name == 'mmap':
                st.mmaps += 1
            elif name == 'brk':
                st.brks += 1
            elif name in ('vmsplice', 'io_uring_register'):
                st.gups += 1
    for pid in list(pending):
        settle(pid)
    # Unresolved write faults: no allocation followed.
    for k in ('cow?', 'first-write?'):
        if k in st.kind:
            st.kind['wp-reuse' if k == 'cow?' else 'write-noalloc'] += st.kind.pop(k)
    st.report(path)


def synth():
    st = Stats()
    for line in sys.stdin:
        f = line.split()
        if len(f) < 4:
            continue
        tid = int(f[2].split('/')[0])
        ev = f[3]
        if ev == 'fault':
            pg = int(f[4], 16) >> 12
            rest = f[5:]
            st.fault(tid, pg, 'prot' if 'present' in rest else 'notpresent')
            if 'ifetch' in rest:
                k = 'ifetch'
            elif rest[0] == 'write':
                k = 'prot-write' if 'present' in rest else 'first-write'
            else:
                k = 'read-miss'
            st.kind[k] += 1
        elif ev == 'fork':
            fl = int(f[5].split('=')[1], 16)
            if fl & 0x10000:
                st.threads += 1
            elif fl & 0x100:
                st.vforks += 1
            else:
                st.forks += 1
        elif ev == 'exec':
            st.execs += 1
        elif ev == 'exit':
            st.exits += 1
        elif ev == 'munmap':
            st.munmaps += 1
        elif ev == 'madvise':
            st.madvises += 1
        elif ev == 'mmap':
            st.mmaps += 1
        elif ev == 'brk':
            st.brks += 1
        elif ev == 'gup':
            st.gups += 1
    st.report('synth')


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[2] == 'synth':
        synth()
    elif len(sys.argv) == 3:
        real(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
