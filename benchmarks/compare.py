"""Is this version cheaper or dearer than another?  Alternating whole flake8 runs.

    python benchmarks/compare.py APP_ROOT TARGET --rounds 5 \\
        plain=/venvs/plain/bin/python before=/venvs/old/bin/python now=.venv/bin/python

Each ``NAME=PYTHON`` is an interpreter whose environment has flake8 (and, except for the
one named ``plain``, this plugin -- any version).  Round after round, each runs ``python
-m flake8 -j1 --isolated TARGET`` from ``APP_ROOT``, with ``--select=E,W,F`` for
``plain`` (an environment *without* the plugin: flake8 runs every installed plugin
whatever ``--select`` says) and ``--select=E,W,F,FCX`` for the others.  Printed: the CPU
time (user + system) of each run and, per interpreter, the median and its ratio to
``plain``'s median.

Why alternate: on a shared machine a single median of 3 moves by ±0.1x from one
minute to the next (``run.py``); interleaving the versions exposes both to the same
minutes, so their difference is what changed, not when they ran.  Install each version
from a wheel (``pip install DIR``) rather than in editable mode: an editable checkout
under ``PYTHONDONTWRITEBYTECODE`` compiles the plugin in every run.  Unix only.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
from typing import Dict, List, Optional, Sequence


def cpu_of(command: Sequence[str], cwd: str) -> float:
    """CPU seconds (user + system) of one child process run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("app_root", help="working directory of the runs")
    parser.add_argument("target", help="what flake8 is run on, relative to app_root")
    parser.add_argument("pythons", nargs="+", help="NAME=PYTHON; one named 'plain'")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    pythons: Dict[str, str] = dict(p.split("=", 1) for p in args.pythons)
    if "plain" not in pythons:
        parser.error("one interpreter must be named 'plain' (flake8 without the plugin)")
    times: Dict[str, List[float]] = {name: [] for name in pythons}
    for round_number in range(args.rounds):
        for name, python in pythons.items():
            select = "E,W,F" if name == "plain" else "E,W,F,FCX"
            command = [python, "-m", "flake8", "-j1", "--isolated", f"--select={select}",
                       args.target]
            times[name].append(cpu_of(command, args.app_root))
        print(f"round {round_number + 1}: "
              + ", ".join(f"{n} {t[-1]:.2f} s" for n, t in times.items()), flush=True)
    base = statistics.median(times["plain"])
    for name, found in times.items():
        median = statistics.median(found)
        print(f"{name:12s} median {median:7.2f} s CPU  {median / base:.3f}x plain")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
