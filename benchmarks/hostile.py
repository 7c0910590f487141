"""Big hostile inputs: no input may take the process past 1 GB or 30 s per MB of source.

    python benchmarks/hostile.py [--quick] [--json out.json]

Each input is a module that really reports (a thread reading ``request``) plus a bulk
the analysis must survive, written to a temporary directory and checked, each in a
fresh process, by the standalone command (``flake8-flask-ctx``, which reads and parses
the file itself) and by the flake8 plugin as flake8 drives it: the child parses the
file with ``ast`` and reads its lines (what flake8 hands every plugin, and pays for
itself whether or not this plugin is installed), then runs the plugin; the plugin's
share is the time and the growth of the peak memory after that point.  Reported: wall
time, seconds per MB of source, peak resident memory, and the first line of output.
flake8 itself on these inputs (pycodestyle, pyflakes) takes minutes and gigabytes with
or without this plugin: ``--with-flake8`` also runs the whole ``flake8 --select=FCX``.
The limits (issue 27) are reported, never asserted.

The inputs: a 10 MB one-line list expression; a 50 MB generated module of 600,000
small functions (``--quick``: 1 MB and 5 MB); a 10 MB string literal; a module just
under the default node limit (what a legitimately big file costs when analysed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import FLAKE8_WITHOUT_PLUGIN  # noqa: E402

BIN = Path(sys.executable).parent
HEAD = (
    "import threading\n\nfrom flask import request\n\n\n"
    "def worker():\n    return request.args\n\n\n"
    "threading.Thread(target=worker).start()\n"
)
MEMORY_LIMIT_MB = 1024
SECONDS_PER_MB = 30.0


def inputs(quick: bool) -> Dict[str, str]:
    scale = 10 if quick else 1
    expression_mb, functions = 10 // scale or 1, 600_000 // (scale * 10 if quick else 1)
    elements = expression_mb * 1_000_000 // 6
    return {
        f"one-line list of {elements:,} names ({expression_mb} MB)":
            HEAD + "TABLE = [" + ", ".join(["name"] * elements) + "]\n",
        f"{functions:,} small functions":
            HEAD + "".join(
                f"\n\ndef f{i}(a, b):\n    return a + b * {i}\n" for i in range(functions)
            ),
        f"a string literal of {expression_mb} MB":
            HEAD + "TEXT = '" + "x" * (expression_mb * 1_000_000) + "'\n",
        "just under the default node limit (10,000 functions, 140,000 nodes)":
            HEAD + "".join(
                f"\n\ndef f{i}(a, b):\n    return a + b * {i}\n" for i in range(10_000)
            ),
    }


PLUGIN_PROBE = (
    "import ast, json, resource, sys, time\n"
    "from flake8_flask_ctx.frontends.plugin import Plugin\n"
    "path = sys.argv[1]\n"
    "with open(path, encoding='utf-8') as handle:\n"
    "    lines = handle.readlines()\n"
    "tree = ast.parse(''.join(lines))\n"
    "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
    "start = time.perf_counter()\n"
    "reports = [r[2] for r in Plugin(tree, lines, path).run()]\n"
    "wall = time.perf_counter() - start\n"
    "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
    "print(json.dumps({'seconds': wall, 'peak_mb': peak, 'added_mb': peak - before,\n"
    "                  'status': len(reports), 'first_line': (reports or [''])[0][:160]}))\n"
)


def run_one(command: List[str], cwd: Path) -> Dict[str, object]:
    """``command`` in a child that reports its own peak memory (RUSAGE_CHILDREN is the
    maximum over every child so far, so each measurement gets a fresh parent)."""
    probe = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "out = (done.stdout.strip().splitlines() or done.stderr.strip().splitlines() "
        "or [''])[0]\n"
        "print(json.dumps({'seconds': wall, 'peak_mb': peak, 'status': done.returncode,"
        " 'first_line': out[:160]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *command], cwd=cwd,
                          capture_output=True, text=True)
    result: Dict[str, object] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="inputs a tenth the size")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--with-flake8", action="store_true",
                        help="also the whole flake8 run (minutes, gigabytes: flake8's own)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "plain_flake8.py").write_text(FLAKE8_WITHOUT_PLUGIN, encoding="utf-8")
        for number, (name, text) in enumerate(inputs(args.quick).items()):
            path = root / f"input{number}.py"
            path.write_text(text, encoding="utf-8")
            megabytes = len(text.encode("utf-8")) / 1_000_000
            row: Dict[str, object] = {"input": name, "mb": megabytes}
            row["standalone"] = run_one(
                [str(BIN / "flake8-flask-ctx"), "--isolated", path.name], root
            )
            plugin = subprocess.run(
                [sys.executable, "-c", PLUGIN_PROBE, path.name], cwd=root,
                capture_output=True, text=True,
            )
            row["plugin_in_flake8"] = json.loads(plugin.stdout)
            if args.with_flake8:
                row["flake8"] = run_one(
                    [str(BIN / "flake8"), "--isolated", "--select=FCX", path.name], root
                )
                row["flake8_without_plugin"] = run_one(
                    [sys.executable, "plain_flake8.py", "--isolated", "--select=E9",
                     path.name], root,
                )
            path.unlink()
            results.append(row)
            _print(row)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def _print(row: Dict[str, object]) -> None:
    megabytes = float(row["mb"])  # type: ignore[arg-type]
    print(f"{row['input']} ({megabytes:.2f} MB)")
    for front in ("standalone", "plugin_in_flake8", "flake8", "flake8_without_plugin"):
        measured = row.get(front)
        if not isinstance(measured, dict):
            continue
        seconds, peak = float(measured["seconds"]), float(measured["peak_mb"])
        verdict = (
            "ok" if peak <= MEMORY_LIMIT_MB and seconds <= SECONDS_PER_MB * max(megabytes, 1)
            else "OVER"
        )
        if front == "plugin_in_flake8":
            added = float(measured["added_mb"])
            verdict = "ok" if added <= MEMORY_LIMIT_MB and seconds <= SECONDS_PER_MB * max(
                megabytes, 1) else "OVER"
            verdict += f" (peak grew {added:.0f} MB over flake8's own ast and lines)"
        elif front == "flake8_without_plugin":
            verdict = "(flake8's own cost)"
        status = ("reports" if front == "plugin_in_flake8" else "exit")
        print(f"  {front:<22} {seconds:7.1f} s {seconds / megabytes:6.1f} s/MB "
              f"{peak:7.0f} MB  {status} {measured['status']}  {verdict}")
        print(f"  {'':<22} {measured['first_line']}")


if __name__ == "__main__":
    sys.exit(main())
