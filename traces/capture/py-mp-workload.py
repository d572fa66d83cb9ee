"""py-mp-workload.py: the py-multiprocessing capture's workload.

A parent builds a data set of tens of MB (a list of small bytes objects and a
bytearray), then a pool of fork-started workers reads it (touching the
objects' reference counts writes their pages: the classic CPython COW
storm) and writes slices of the bytearray (plain COW of anonymous memory).
After the pool is gone the parent writes the bytearray again (the pages are
its own once more: reuse).  Phases are announced with cowsim phase markers.

usage: python3 py-mp-workload.py [--marker PATH] [--items N] [--array-mb M]
                                 [--workers W]
"""
import argparse
import multiprocessing as mp
import os

ap = argparse.ArgumentParser()
ap.add_argument('--marker', default='/sys/kernel/tracing/trace_marker')
ap.add_argument('--items', type=int, default=200000)
ap.add_argument('--array-mb', type=int, default=16)
ap.add_argument('--workers', type=int, default=3)
args = ap.parse_args()

mfd = os.open(args.marker, os.O_WRONLY)


def mark(text):
    os.write(mfd, ('cowsim: phase %s\n' % text).encode())  # one write() each


ITEMS = None
ARRAY = None


def read_slice(bounds):
    lo, hi = bounds
    total = 0
    for b in ITEMS[lo:hi]:      # refcount inc/dec writes every object's page
        total += len(b)
    return total


def write_slice(bounds):
    lo, hi = bounds
    for off in range(lo, hi, 4096):   # one byte per page: one COW per page
        ARRAY[off] = (ARRAY[off] + 1) & 0xff
    return hi - lo


def main():
    global ITEMS, ARRAY
    mark('build items=%d array_mb=%d' % (args.items, args.array_mb))
    ITEMS = [b'item-%09d-' % i * 4 for i in range(args.items)]
    ARRAY = bytearray(args.array_mb << 20)
    for off in range(0, len(ARRAY), 4096):
        ARRAY[off] = 1
    ctx = mp.get_context('fork')
    n = args.items
    chunks = [(i * n // 12, (i + 1) * n // 12) for i in range(12)]
    asz = len(ARRAY)
    wchunks = [(i * asz // 8, (i + 1) * asz // 8) for i in range(4)]  # first half
    mark('pool-start workers=%d' % args.workers)
    with ctx.Pool(args.workers) as pool:
        mark('map-read')
        total = sum(pool.map(read_slice, chunks))
        mark('map-write')
        written = sum(pool.map(write_slice, wchunks))
        mark('pool-close')
        pool.close()
        pool.join()
    mark('parent-writes-after-pool')
    write_slice((0, asz))
    mark('done read_bytes=%d written_bytes=%d' % (total, written))
    print('read %d bytes of items, workers wrote %d bytes of the array' %
          (total, written))


if __name__ == '__main__':
    main()
