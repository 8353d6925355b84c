#!/usr/bin/env python3
"""Benchmark `asc-publish validate` on two IPAs of the same structure, 2 MiB and 2 GiB.

Builds the release binary and the sample-IPA example, synthesises both IPAs (the sample app with
a sealed, incompressible `Content.bin` resource padding it to size), then runs `validate` on each
several times and prints the median wall time and the peak RSS (from wait4's rusage, per run).

Targets (issue #2): the 2 GiB IPA takes at most 2x the time of the 2 MiB one, and stays under
32 MiB peak RSS — validation reads only the central directory and the entries it needs.

    python3 scripts/bench-validate.py [--runs N] [--keep DIR]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = [("2 MiB", 2 * 1024 * 1024), ("2 GiB", 2 * 1024 * 1024 * 1024)]


def run_measured(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    return elapsed, usage.ru_maxrss / 1024.0, proc.returncode, err  # ru_maxrss is KiB on Linux


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", help="write the IPAs here and keep them")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "asc-publish", "--example", "sample_ipa"],
                   cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "asc-publish")
    sample = os.path.join(ROOT, "target", "release", "examples", "sample_ipa")
    work = args.keep or tempfile.mkdtemp(prefix="bench-validate-")
    os.makedirs(work, exist_ok=True)
    rows = []
    try:
        for label, size in SIZES:
            # The sample without padding is ~70 KB; pad the rest.
            ipa = os.path.join(work, f"sample-{size}.ipa")
            subprocess.run([sample, ipa, str(max(size - 70_000, 0))], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            ca = ipa + ".root-ca.pem"
            argv = [exe, "validate", ipa, "--extra-root-ca", ca, "--format", "json"]
            run_measured(argv)  # warm the page cache for the parts validate reads
            times, rss = [], []
            for _ in range(args.runs):
                t, r, code, err = run_measured(argv)
                if code != 0:
                    sys.exit(f"validate exited {code} on {label}: {err}")
                times.append(t)
                rss.append(r)
            rows.append((label, os.path.getsize(ipa), statistics.median(times), max(rss)))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"{'IPA':<8} {'bytes on disk':>15} {'median time':>12} {'peak RSS':>10}")
    for label, size, t, r in rows:
        print(f"{label:<8} {size:>15,} {t * 1000:>9.1f} ms {r:>7.1f} MiB")
    small, big = rows[0], rows[1]
    ratio = big[2] / small[2] if small[2] else float("inf")
    print(f"time ratio 2 GiB / 2 MiB: {ratio:.2f}x (target <= 2x); peak RSS 2 GiB: {big[3]:.1f} MiB (target < 32 MiB)")
    ok = ratio <= 2.0 and big[3] < 32.0
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
