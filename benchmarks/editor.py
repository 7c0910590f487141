"""What one save costs in an editor: every file linted alone, in a fresh process.

    python benchmarks/editor.py DIR [DIR ...] [--all] [--json out.json]

Editors (and ``pre-commit`` on a one-file change) run flake8 on one file per save, in a
new process, from the project's root.  What the plugin adds there is what a user feels:
its import, LibCST's import, and -- for a file that passes the gates -- the parse, the
project index and the other modules reach enters, none of it shared with a previous file.
For each file: CPU time (user + system, so a busy machine does not inflate it) of
``flake8 --isolated --select=E,W,F`` *without the plugin loaded* and of the same with the
plugin and ``--select=E,W,F,FCX``, best of ``--repeats``; the difference is the plugin's.

By default only the files that can cost more than the plugin's import are run (those the
text prefilter lets through) plus a sample of the others (every 25th: they pay the import
and the prefilter, nothing else); ``--all`` runs every file.  Reported: the median, p95 and
maximum added milliseconds and the worst files by name.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE  # noqa: E402
from flake8_flask_ctx.index.prefilter import might_have_findings  # noqa: E402
from flake8_flask_ctx.index.project import project_of  # noqa: E402
from run import FLAKE8_WITHOUT_PLUGIN, python_files  # noqa: E402

#: Of the files the prefilter rejects, every n-th is run (they all cost the same).
SAMPLE_EVERY = 25


def child_cpu(command: Sequence[str], cwd: Path) -> float:
    """CPU seconds (user + system) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def added_ms(path: Path, root: Path, repeats: int) -> Tuple[float, float]:
    """(plain flake8 ms, ms the plugin adds) for ``path`` linted alone from ``root``."""
    relative = str(path.relative_to(root))
    plain_command = [sys.executable, "-c", FLAKE8_WITHOUT_PLUGIN, "--isolated",
                     "--select=E,W,F", relative]
    plugin_command = [sys.executable, "-m", "flake8", "--isolated", "--select=E,W,F,FCX",
                      relative]
    plain = min(child_cpu(plain_command, root) for _ in range(repeats))
    with_plugin = min(child_cpu(plugin_command, root) for _ in range(repeats))
    return plain * 1000, (with_plugin - plain) * 1000


def chosen_files(root: Path, every: bool) -> List[Tuple[Path, bool]]:
    """The files to run, each with whether the prefilter lets it through."""
    found: List[Tuple[Path, bool]] = []
    rejected = 0
    for path in python_files(root):
        try:
            source = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        project = project_of(str(path), DEFAULT_KNOWLEDGE)
        passes = might_have_findings(source, DEFAULT_KNOWLEDGE, project)
        if passes or every:
            found.append((path, passes))
        else:
            rejected += 1
            if rejected % SAMPLE_EVERY == 1:
                found.append((path, False))
    return found


def measure(root: Path, every: bool, repeats: int) -> Dict[str, object]:
    rows: List[Dict[str, object]] = []
    previous = os.getcwd()
    os.chdir(root)  # the project is worked out from the working directory too
    try:
        for path, passes in chosen_files(root, every):
            plain, added = added_ms(path, root, repeats)
            rows.append({"file": str(path.relative_to(root)), "prefilter": passes,
                         "plain_ms": round(plain, 1), "added_ms": round(added, 1)})
    finally:
        os.chdir(previous)
    costs = sorted(float(str(r["added_ms"])) for r in rows)
    summary: Dict[str, object] = {"root": str(root), "files": len(rows)}
    if costs:
        summary.update({
            "median_ms": round(statistics.median(costs), 1),
            "p95_ms": round(costs[min(len(costs) - 1, int(0.95 * len(costs)))], 1),
            "max_ms": round(costs[-1], 1),
            "worst": sorted(rows, key=lambda r: -float(str(r["added_ms"])))[:5],
        })
    summary["rows"] = rows
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directories", nargs="+", help="project roots (run from there)")
    parser.add_argument("--all", action="store_true", help="every file, not a sample")
    parser.add_argument("--repeats", type=int, default=2, help="best of N (default 2)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    for directory in args.directories:
        summary = measure(Path(directory).resolve(), args.all, args.repeats)
        results.append(summary)
        print(f"{summary['root']}: {summary['files']} files alone in a fresh process; added "
              f"CPU ms: median {summary.get('median_ms')}, p95 {summary.get('p95_ms')}, "
              f"max {summary.get('max_ms')}")
        worst: List[Dict[str, object]] = summary.get("worst", [])  # type: ignore[assignment]
        for row in worst:
            print(f"    {row['added_ms']:>8} ms  {row['file']} (plain flake8 {row['plain_ms']} ms)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
