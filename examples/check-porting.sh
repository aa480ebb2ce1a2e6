#!/bin/bash
# PORTING.md quotes byo_loop.c, which the tests build and run: every
# ```c block of the guide must be a region of byo_loop.c marked
# /* PORTING: <name> */ ... /* PORTING: end */, and every such region
# must be quoted, so the guide cannot drift from code that works.
set -euo pipefail
guide=$1
src=$2
exec python3 - "$guide" "$src" <<'PY'
import re, sys
guide = open(sys.argv[1]).read()
src = open(sys.argv[2]).read().splitlines()
blocks = [b.strip("\n") for b in re.findall(r"```c\n(.*?)```", guide, re.S)]
regions, cur, name = {}, None, None
for line in src:
    m = re.match(r"\s*/\* PORTING: (\S+) \*/\s*$", line)
    if m and m.group(1) == "end":
        regions[name] = "\n".join(cur).strip("\n")
        cur = None
    elif m:
        name, cur = m.group(1), []
    elif cur is not None:
        cur.append(line)
bad = 0
for i, b in enumerate(blocks):
    if b not in regions.values():
        print("PORTING.md block %d is not a marked region of byo_loop.c:\n%s"
              % (i + 1, b[:200]))
        bad += 1
for n, r in regions.items():
    if r not in blocks:
        print("byo_loop.c region '%s' is not quoted in PORTING.md" % n)
        bad += 1
if not blocks or not regions:
    print("no code blocks / regions found")
    bad += 1
print("%d blocks, %d regions, %d problems" % (len(blocks), len(regions), bad))
sys.exit(1 if bad else 0)
PY
