#!/usr/bin/env python3
"""Reads the output of `sonde-load run` and `sonde-load verify` (standard
input) and appends its figures to the results file named by the first
argument, as `PREFIX_name=value` lines (bench/run.sh's results.env):

- from the `all` row of the run's table: requests_per_s, items_per_s,
  p50_ms, p99_ms, no_answer (requests the collector never answered);
- from the check, summed over every kind: acked, stored, lost, duplicated,
  unexpected;
- `KEY=VALUE` arguments after the prefix are appended as they are.

Usage: results.py RESULTS_FILE PREFIX [KEY=VALUE ...] < output
"""
import re
import sys


def main() -> None:
    results, prefix, *extra = sys.argv[1:]
    text = sys.stdin.read()
    figures = {}
    for line in text.splitlines():
        cols = line.split()
        if cols[:1] == ["all"] and len(cols) >= 6:
            figures["requests_per_s"] = cols[2]
            figures["items_per_s"] = cols[3]
            figures["p50_ms"] = cols[4]
            figures["p99_ms"] = cols[5]
            m = re.search(r"no-answer:(\d+)", line)
            figures["no_answer"] = m.group(1) if m else "0"
        m = re.match(
            r"\s*\S+\s+acked\s+(\d+)\s+stored\s+(\d+)\s+lost\s+(\d+)\s+duplicated\s+(\d+)\s+unexpected\s+(\d+)",
            line,
        )
        if m:
            for name, value in zip(("acked", "stored", "lost", "duplicated", "unexpected"), m.groups()):
                figures[name] = str(int(figures.get(name, "0")) + int(value))
    with open(results, "a") as f:
        for name, value in figures.items():
            f.write(f"{prefix}_{name}={value}\n")
        for kv in extra:
            f.write(f"{prefix}_{kv}\n")


if __name__ == "__main__":
    main()
