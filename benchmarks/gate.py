"""The semantic gate's effect on one application, in process (issue 26).

    cd APP_ROOT && python /path/to/benchmarks/gate.py PACKAGE_DIR

Runs ``check_source`` over every file of ``PACKAGE_DIR`` once with
``FLASK_CTX_SEMANTIC_GATE=off`` and once with ``on`` (each in a fresh interpreter, so
neither warms the other's caches) and prints the CPU time, the modules parsed with
LibCST and the findings of each.  Run it from the application's root: that is where
flake8 runs, and the project is found from there.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def measure(root: Path) -> str:
    sys.path.insert(0, str(REPO))
    from flake8_flask_ctx.checker import check
    from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE
    from flake8_flask_ctx.options.settings import Settings

    parsed = findings = 0
    start = time.process_time()
    for path in sorted(root.rglob("*.py")):
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        before = check.analysed_modules()
        findings += len(check.check_source(source, DEFAULT_KNOWLEDGE, str(path), Settings(), tree))
        parsed += check.analysed_modules() - before
    seconds = time.process_time() - start
    return f"{seconds:.2f} s CPU, {parsed} parsed with LibCST, {findings} findings"


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(measure(Path(sys.argv[2])))
        return 0
    root = sys.argv[1]
    for value in ("off", "on"):
        env = dict(os.environ, FLASK_CTX_SEMANTIC_GATE=value)
        done = subprocess.run([sys.executable, __file__, "--measure", root], env=env,
                              capture_output=True, text=True, check=True)
        print(f"gate {value}: {done.stdout.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
