#!/usr/bin/env python3
# tests/bench/alias_bomb.py SHAPE [BYTES] - writes a Pod manifest of about
# BYTES bytes (default 1 MiB - 4 KiB, just under the decoder's 1 MiB
# limit) to stdout, whose annotations are a YAML alias bomb:
#
#   long   a 256 KiB string anchored once, then aliased as often as fits
#   wide   billion laughs: nine levels of nine, the top aliased as often as fits
#   deep   each level two aliases of the one before (60 levels)
#   small  a one-letter scalar aliased as often as fits
#
# The decoder must refuse each one (EFBIG) quickly and cheaply; t_bounds.sh
# and docs/benchmarks.md measure it through the filesystem and the HTTP API.
import sys

shape = sys.argv[1] if len(sys.argv) > 1 else "long"
size = int(sys.argv[2]) if len(sys.argv) > 2 else 1024 * 1024 - 4096

out = ["apiVersion: v1\nkind: Pod\nmetadata:\n  name: bomb\n  annotations:\n"]


def fill(unit, tail):
    used = sum(len(s) for s in out)
    n = max(0, (size - used - len(tail)) // len(unit))
    out.append(unit * n)
    out.append(tail)


if shape == "long":
    out.append('    a: &a "' + "x" * (256 * 1024) + '"\n    b: [*a')
    fill(", *a", "]\n")
elif shape == "wide":
    out.append("    l0: &l0 [" + ", ".join(["lol"] * 9) + "]\n")
    for i in range(1, 9):
        out.append("    l%d: &l%d [%s]\n" % (i, i, ", ".join(["*l%d" % (i - 1)] * 9)))
    out.append("    top: [*l8")
    fill(", *l8", "]\n")
elif shape == "deep":
    out.append("    d0: &d0 [xxxxxxxx]\n")
    for i in range(1, 60):
        out.append("    d%d: &d%d [*d%d, *d%d]\n" % (i, i, i - 1, i - 1))
    fill("#", "\n")
elif shape == "small":
    out.append("    a: &a x\n    b: [*a")
    fill(",*a", "]\n")
else:
    sys.exit("alias_bomb.py: SHAPE is long, wide, deep or small")
out.append("spec:\n  containers:\n  - name: c\n    image: busybox\n")
sys.stdout.write("".join(out))
