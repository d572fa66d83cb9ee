#!/usr/bin/python3
"""tracestats.py: count what a captured cowsim trace holds.

Reads the three formats traces/capture writes -- trace.dat (through
`trace-cmd report`), kernel ftrace text (.ftrace.txt[.zst]) and perf script
text (.perf.txt[.zst]) -- and prints one block per file: size, event lines,
per-event counts, cowsim markers, dropped-event signs, and the workload's
process tree (the first exec of --root EXE and every task forked from it),
classified with task_newtask's clone_flags.

It is a capture-side sanity check and the source of traces/real/README.md's
numbers, not an importer: it parses just enough of each line.

usage: tracestats.py [--root EXE] [--table] FILE...
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

CLONE_VM, CLONE_VFORK, CLONE_THREAD = 0x100, 0x4000, 0x10000

# comm-PID [ (TGID) ] [CPU] [flags] ts: body        (ftrace text, trace-cmd)
RE_FT = re.compile(r'^\s*(?P<comm>.*?)-(?P<pid>\d+)\s+'
                   r'(?:\(\s*(?P<tgid>[-\d]+)\)\s+)?\[(?P<cpu>\d+)\]\s+'
                   r'(?:(?P<flags>[^\s:]{5})\s+)?(?P<ts>\d+\.\d+):\s+(?P<body>.*)$')
# comm TID[/TID] [CPU] ts: body                      (perf script)
RE_PF = re.compile(r'^\s*(?P<comm>.*?)\s+(?P<pid>-?\d+)(?:/(?P<tid>\d+))?\s+'
                   r'\[(?P<cpu>\d+)\]\s+(?P<ts>\d+\.\d+):\s+(?P<body>.*)$')
RE_EV = re.compile(r'^(?:\w+:)?(?P<ev>\w+):\s*(?P<rest>.*)$')
RE_KSYS_ENTER = re.compile(r'^(?P<name>sys_\w+)\((?P<rest>.*)\)$')
RE_KSYS_EXIT = re.compile(r'^(?P<name>sys_\w+) -> (?P<rest>.*)$')
RE_FORK = re.compile(r'\bpid=(\d+) child_comm=.* child_pid=(\d+)\s*$')
RE_NEWTASK = re.compile(r'^pid=(\d+) comm=.* clone_flags=([0-9a-fA-F]+) ')
RE_EXEC = re.compile(r'^filename=(.*) pid=(\d+) old_pid=(\d+)\s*$')


_KEEP = []  # temp files that must outlive open_text()


def open_text(path):
    if path.endswith('.dat.zst'):
        # trace-cmd reads only a seekable file: decompress to a temp file,
        # kept open (so not deleted) until this script exits
        tmp = tempfile.NamedTemporaryFile(suffix='.dat')
        _KEEP.append(tmp)
        subprocess.run(['zstd', '-dcq', path], stdout=tmp, check=True)
        tmp.flush()
        p = subprocess.Popen(['trace-cmd', 'report', '-i', tmp.name],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, errors='replace')
        return p.stdout, 'trace-cmd'
    if path.endswith('.dat'):
        p = subprocess.Popen(['trace-cmd', 'report', '-i', path],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, errors='replace')
        return p.stdout, 'trace-cmd'
    if path.endswith('.zst'):
        p = subprocess.Popen(['zstdcat', path], stdout=subprocess.PIPE,
                             text=True, errors='replace')
        f = p.stdout
    else:
        f = open(path, errors='replace')
    return f, ('perf' if '.perf.' in os.path.basename(path) else 'ftrace')


def stats(path, root_exe):
    f, fmt = open_text(path)
    s = collections.Counter()
    ev = collections.Counter()
    forks = []            # (parent_tid, child_tid)
    newtask = {}          # child tid -> clone_flags
    execs = []            # (tid, filename)
    pf_by_tid = collections.Counter()
    tids = set()
    first_ts = last_ts = None
    notes = []
    rx = RE_PF if fmt == 'perf' else RE_FT
    for line in f:
        s['lines'] += 1
        line = line.rstrip('\n')
        if fmt == 'ftrace' and line.startswith('#'):
            m = re.search(r'entries-in-buffer/entries-written: (\d+)/(\d+)', line)
            if m and m.group(1) != m.group(2):
                notes.append('ftrace buffer overwritten: ' + line.strip('# '))
            continue
        if fmt == 'trace-cmd' and line.startswith('cpus='):
            continue
        if 'EVENTS DROPPED' in line or 'PERF_RECORD_LOST' in line:
            s['dropped_lines'] += 1
            notes.append(line.strip())
        m = rx.match(line)
        if not m:
            s['unparsed'] += 1
            continue
        body = m.group('body')
        if fmt == 'perf' and body.startswith('PERF_RECORD_'):
            s['perf_sideband'] += 1
            ev[re.split(r'[\s:(]', body, 1)[0]] += 1
            continue
        s['events'] += 1
        ts = float(m.group('ts'))
        if ts > 0:
            first_ts = ts if first_ts is None else min(first_ts, ts)
            last_ts = ts if last_ts is None else max(last_ts, ts)
        tid = int(m.groupdict().get('tid') or m.group('pid'))
        tids.add(tid)
        em = RE_EV.match(body)
        name = rest = None
        if em:
            name, rest = em.group('ev'), em.group('rest')
        if name is None:
            km = RE_KSYS_ENTER.match(body)
            if km:
                name, rest = 'sys_enter_' + km.group('name')[4:], km.group('rest')
            else:
                km = RE_KSYS_EXIT.match(body)
                if km:
                    name, rest = 'sys_exit_' + km.group('name')[4:], km.group('rest')
        if name is None:
            s['unparsed'] += 1
            continue
        ev[name] += 1
        if name in ('print', 'tracing_mark_write'):
            r = rest
            if r.startswith('tracing_mark_write: '):
                r = r[len('tracing_mark_write: '):]
            elif re.match(r'0x[0-9a-f]+: cowsim: ', r):
                # a trace.dat without kallsyms (lib.sh cap_dat_tree) prints
                # the marker's ip as a number, not tracing_mark_write
                r = r.split(': ', 1)[1]
            if r.startswith('cowsim: '):
                verb = r.split()[1] if len(r.split()) > 1 else '?'
                s['marker_' + verb] += 1
                if verb == 'maps' and r.endswith(' begin'):
                    s['maps_snapshots'] += 1
        elif name == 'page_fault_user':
            pf_by_tid[tid] += 1
        elif name == 'sched_process_fork':
            fm = RE_FORK.search(rest)
            if fm:
                forks.append((int(fm.group(1)), int(fm.group(2))))
        elif name == 'task_newtask':
            nm = RE_NEWTASK.match(rest)
            if nm:
                newtask[int(nm.group(1))] = int(nm.group(2), 16)
        elif name == 'sched_process_exec':
            xm = RE_EXEC.match(rest)
            if xm:
                execs.append((int(xm.group(2)), xm.group(1)))
    f.close()

    # the workload tree
    tree = {}
    root = None
    if root_exe:
        for tid, fn in execs:
            if os.path.basename(fn) == root_exe:
                root = tid
                break
    if root is not None:
        tree[root] = 'root'
        # forks are in time order; a child of a tree task joins the tree
        for parent, child in forks:
            if parent in tree and child not in tree:
                fl = newtask.get(child)
                if fl is None:
                    kind = 'unknown'
                elif fl & CLONE_THREAD:
                    kind = 'thread'
                elif fl & CLONE_VFORK:
                    kind = 'vfork'
                elif fl & CLONE_VM:
                    kind = 'clone_vm'
                else:
                    kind = 'fork'
                tree[child] = kind
    kinds = collections.Counter(tree.values())
    out = collections.OrderedDict()
    out['file'] = path
    out['format'] = fmt
    out['bytes'] = os.path.getsize(path)
    out['text_lines'] = s['lines']
    out['events'] = s['events']
    if fmt == 'perf':
        out['perf_sideband_records'] = s['perf_sideband']
    out['unparsed_lines'] = s['unparsed']
    out['duration_s'] = round(last_ts - first_ts, 3) if first_ts else 0
    out['page_fault_user'] = ev['page_fault_user']
    out['page_fault_kernel'] = ev['page_fault_kernel']
    out['mm_page_alloc'] = ev['mm_page_alloc']
    out['sched_process_fork'] = ev['sched_process_fork']
    out['sched_process_exec'] = ev['sched_process_exec']
    out['tids_seen'] = len(tids)
    out['maps_snapshots'] = s['maps_snapshots']
    for k in sorted(s):
        if k.startswith('marker_'):
            out[k] = s[k]
    if root is not None:
        out['tree_root'] = '%s pid %d' % (root_exe, root)
        out['tree_processes'] = 1 + kinds['fork'] + kinds['vfork'] + kinds['clone_vm'] + kinds['unknown']
        out['tree_forks'] = kinds['fork']
        out['tree_vforks'] = kinds['vfork']
        out['tree_clone_vm'] = kinds['clone_vm']
        out['tree_threads'] = kinds['thread']
        out['tree_execs'] = sum(1 for t, _ in execs if t in tree)
        out['tree_page_fault_user'] = sum(pf_by_tid[t] for t in tree)
    elif root_exe:
        out['tree_root'] = 'no exec of %s found' % root_exe
    out['event_counts'] = ' '.join('%s=%d' % kv for kv in ev.most_common())
    out['dropped'] = '; '.join(notes[:5]) if notes else 'none'
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default='', help='basename of the workload exe')
    ap.add_argument('--table', action='store_true', help='one markdown row per file')
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()
    rows = []
    for p in a.files:
        try:
            st = stats(p, a.root)
        except OSError as e:
            print('tracestats: %s: %s' % (p, e), file=sys.stderr)
            return 1
        rows.append(st)
        if not a.table:
            print('### %s' % os.path.basename(p))
            for k, v in st.items():
                print('%-22s %s' % (k + ':', v))
            print()
    if a.table:
        print('| file | format | bytes | events | page_fault_user | tree processes | tree forks | tree vforks | threads | execs | maps snapshots | expects |')
        print('|---|---|---|---|---|---|---|---|---|---|---|---|')
        for st in rows:
            print('| %s | %s | %d | %d | %d | %s | %s | %s | %s | %s | %d | %d |' % (
                os.path.basename(st['file']), st['format'], st['bytes'], st['events'],
                st['page_fault_user'], st.get('tree_processes', '-'), st.get('tree_forks', '-'),
                st.get('tree_vforks', '-'), st.get('tree_threads', '-'), st.get('tree_execs', '-'),
                st['maps_snapshots'], st.get('marker_expect', 0)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
