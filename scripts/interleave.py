#!/usr/bin/env python3
"""interleave.py - wall times of commands run in turn, for a noisy machine.

    interleave.py RUNS CMD...

Runs every command once to warm the caches, then RUNS rounds in which each
command runs once, in turn: a machine whose speed drifts (a shared VM)
slows all of them alike, so their ratios hold where back-to-back batches
(hyperfine's) would not.  Prints, per command, "median_ms min_ms CMD".
Commands are split like a shell would (shlex), without a shell; their
output goes to /dev/null.
"""
import shlex
import statistics
import subprocess
import sys
import time


def main():
    runs = int(sys.argv[1])
    cmds = [shlex.split(c) for c in sys.argv[2:]]
    with open('/dev/null', 'wb') as null:
        for c in cmds:
            subprocess.run(c, stdout=null, stderr=null, check=True)
        times = [[] for _ in cmds]
        for _ in range(runs):
            for i, c in enumerate(cmds):
                t = time.perf_counter()
                subprocess.run(c, stdout=null, stderr=null, check=True)
                times[i].append((time.perf_counter() - t) * 1e3)
    for c, t in zip(sys.argv[2:], times):
        print(f"{statistics.median(t):.1f} {min(t):.1f} {c}")


if __name__ == '__main__':
    main()
