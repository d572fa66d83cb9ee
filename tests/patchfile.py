#!/usr/bin/env python3
# patchfile.py BASE PATCHES OUTDIR: write OUTDIR/NAME.dat for each "case
# NAME" of PATCHES, BASE with that case's "OFFSET HEX" lines applied (the
# format of tests/data/dat-crashes.txt: fuzz inputs kept as the few bytes
# they changed in a bundled trace, not as megabyte copies).
import sys
base=open(sys.argv[1],'rb').read()
cases={}
name=None
for line in open(sys.argv[2]):
    line=line.strip()
    if not line or line.startswith('#'): continue
    if line.startswith('case '):
        name=line[5:]; cases[name]=bytearray(base); continue
    off,h=line.split(); off=int(off); b=bytes.fromhex(h)
    cases[name][off:off+len(b)]=b
for n,d in cases.items():
    open('%s/%s.dat'%(sys.argv[3],n),'wb').write(d)
