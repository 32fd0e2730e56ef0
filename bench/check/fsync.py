#!/usr/bin/env python3
"""What one durable commit costs on this disk: 2,000 rounds of an 8 KiB
pwrite into a preallocated file followed by fdatasync (the shape of a WAL
commit that reuses its file), with wall time and this process's CPU time per
round. The collector's keep-alive figure moves with it (BENCHMARKS.md).

Usage: python3 bench/check/fsync.py [DIR]   (DIR defaults to target/)
"""
import os
import sys
import time

directory = sys.argv[1] if len(sys.argv) > 1 else "target"
os.makedirs(directory, exist_ok=True)
path = os.path.join(directory, "fsync-probe.tmp")
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
try:
    page = b"x" * 8192
    for i in range(50):
        os.pwrite(fd, page, i * 8192)
    os.fsync(fd)
    rounds = 2000
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(rounds):
        os.pwrite(fd, page, (i % 50) * 8192)
        os.fdatasync(fd)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"8 KiB pwrite + fdatasync: {wall / rounds * 1e6:.0f} us wall, {cpu / rounds * 1e6:.0f} us CPU per round")
finally:
    os.close(fd)
    os.unlink(path)
