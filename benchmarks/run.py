"""How much does flake8-flask-ctx add to a lint run?  One command, real code, medians.

    python benchmarks/run.py                  # the default corpora, 5 repeats
    python benchmarks/run.py --quick          # smaller corpora, 3 repeats (a smoke run)
    python benchmarks/run.py ~/src/myapp --json results.json

Corpora (built from code already on the machine):
* ``flask``: the Flask ecosystem as installed in this interpreter's site-packages (flask,
  werkzeug, flask_sqlalchemy, flask_login, flask_executor, flask_socketio, flaskthreads)
  -- Flask-heavy code (target: flake8 with FCX at most 1.15x the E,W,F baseline, CPU time);
* ``fixtures``: this repository's fixtures and example app: the worst case, small modules
  that nearly all hold dispatch sites (reported, no budget);
* ``libraries``: their non-Flask dependencies (SQLAlchemy, Celery, kombu, billiard,
  Jinja2, click ...), which never import Flask (target: at most 1.03x);
* ``stdlib``: the installed standard library, a deterministic sample (``--full``: all of
  it), also never importing Flask (target: at most 1.03x);
* any directories given on the command line, as one corpus each (meant for Flask
  applications: the Flask-heavy budget applies).

For each corpus, in the same run and alternating, ``flake8 -j1 --isolated`` is timed with
``--select=E,W,F`` *without this plugin loaded* (what users already pay: flake8 runs every
installed plugin whatever ``--select`` says, so the baseline removes it from flake8's
plugin list), ``--select=E,W,F,FCX`` and ``--select=FCX`` (with the plugin), each
repeated; medians, ratios to the baseline, ms per file and per 1,000 lines, and the
peak memory of the flake8 process are reported.  In process, the plugin's own time on the
files its prefilter lets through is compared with LibCST's bare parse of the same files
(target: at most 2x), with the time split by phase.  Growth: a generated module of
500...5,000 lines and a chain of 10...200 helpers, timed in process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import libcst as cst

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from flake8_flask_ctx.index import project as project_module  # noqa: E402
from flake8_flask_ctx.engine import units as units_module  # noqa: E402
from flake8_flask_ctx.checker.check import check_source  # noqa: E402
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE  # noqa: E402
from flake8_flask_ctx.index.prefilter import might_have_findings  # noqa: E402
from flake8_flask_ctx.index.project import project_of  # noqa: E402
from flake8_flask_ctx.options.settings import Settings  # noqa: E402

FLASK_PACKAGES = (
    "flask", "werkzeug", "flask_sqlalchemy", "flask_login", "flask_executor",
    "flask_socketio", "flaskthreads",
)
LIBRARY_PACKAGES = (
    "sqlalchemy", "celery", "kombu", "billiard", "jinja2", "click", "itsdangerous",
    "amqp", "vine", "markupsafe", "blinker",
)
CONFIGS: Dict[str, List[str]] = {
    "baseline": ["--select=E,W,F"],
    "with_fcx": ["--select=E,W,F,FCX"],
    "fcx_only": ["--select=FCX"],
}
#: flake8 runs every installed plugin whatever ``--select`` says (select only filters
#: what is reported), so the baseline -- flake8 as users run it without this plugin --
#: is flake8 with this plugin removed from its plugin list.
FLAKE8_WITHOUT_PLUGIN = (
    "import sys\n"
    "import flake8.plugins.finder as finder\n"
    "found = finder._find_importlib_plugins\n"
    "finder._find_importlib_plugins = lambda: (\n"
    "    p for p in found() if p.package.replace('_', '-') != 'flake8-flask-ctx')\n"
    "from flake8.main.cli import main\n"
    "sys.exit(main())\n"
)
#: The targets of issue 15 (reported, never asserted): CPU time of a whole run against
#: plain flake8, and the plugin against a bare LibCST parse of the files it analyses.
BUDGETS = {"flask": 1.15, "libraries": 1.03, "stdlib": 1.03}
PARSE_BUDGET = 2.0


# -- corpora ---------------------------------------------------------------------------


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def python_files(root: Path) -> List[Path]:
    if root.is_file():
        return [root]
    skip = {"__pycache__", ".git", ".venv", ".ci-venv", "node_modules", "site-packages"}
    found: List[Path] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        found.extend(Path(directory) / f for f in sorted(files) if f.endswith(".py"))
    return found


def corpora(extra: Sequence[str], quick: bool, full_stdlib: bool) -> Dict[str, List[Path]]:
    site = site_packages()
    flask = [p for name in FLASK_PACKAGES for p in python_files(site / name)]
    fixtures = python_files(REPO / "tests" / "fixtures") + python_files(REPO / "examples")
    libraries = [p for name in LIBRARY_PACKAGES for p in python_files(site / name)]
    stdlib_root = Path(sysconfig.get_paths()["stdlib"])
    stdlib = [
        p for p in python_files(stdlib_root)
        if not {"test", "tests", "idlelib", "lib2to3"} & set(p.relative_to(stdlib_root).parts)
    ]
    step = 1 if full_stdlib else (24 if quick else 8)
    stdlib = stdlib[::step]
    libraries = libraries[::1 if full_stdlib else (8 if quick else 3)]
    found = {"flask": flask, "fixtures": fixtures, "libraries": libraries, "stdlib": stdlib}
    for directory in extra:
        found[Path(directory).name or directory] = python_files(Path(directory))
        BUDGETS.setdefault(Path(directory).name or directory, BUDGETS["flask"])
    return {name: files for name, files in found.items() if files}


def count_lines(files: Sequence[Path]) -> int:
    total = 0
    for path in files:
        try:
            total += path.read_bytes().count(b"\n")
        except OSError:
            pass
    return total


# -- flake8 timings ----------------------------------------------------------------------

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "wall = time.perf_counter() - start\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime\n"
    "out = done.stdout.decode('utf-8', 'replace')\n"
    "fcx = sum(1 for line in out.splitlines() if ': FCX' in line)\n"
    "print(wall, peak, done.returncode, fcx, cpu)\n"
)


@dataclass
class Flake8Run:
    seconds: float
    peak_kib: int
    returncode: int
    fcx_reports: int
    #: User + system CPU time of the flake8 process: what a busy CI machine charges,
    #: steadier than wall time when other work shares the cores.
    cpu_seconds: float = 0.0


def run_flake8(
    options: Sequence[str], files_list: Path, cwd: Path, plugin: bool = True
) -> Flake8Run:
    """One flake8 process over the corpus (paths read from a file: no ARG_MAX issue)."""
    paths = files_list.read_text().split("\n")
    flake8 = ["-m", "flake8"] if plugin else ["-c", FLAKE8_WITHOUT_PLUGIN]
    command = [
        sys.executable, "-c", _MEASURE, sys.executable, *flake8, "-j1", "--isolated",
        *options, "--exit-zero", *paths,
    ]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True)
    wall, peak, code, fcx, cpu = done.stdout.split()
    return Flake8Run(float(wall), int(peak), int(code), int(fcx), float(cpu))


@dataclass
class CorpusResult:
    name: str
    files: int
    lines: int
    prefilter_skipped: int
    runs: Dict[str, List[float]] = field(default_factory=dict)
    cpu: Dict[str, List[float]] = field(default_factory=dict)
    peak_kib: Dict[str, int] = field(default_factory=dict)
    fcx_reports: int = 0
    budget: Optional[float] = None

    def median(self, config: str) -> float:
        return statistics.median(self.runs[config])

    def ratio(self, config: str) -> float:
        return self.median(config) / self.median("baseline")

    def cpu_median(self, config: str) -> float:
        return statistics.median(self.cpu[config])

    def cpu_ratio(self, config: str) -> float:
        return self.cpu_median(config) / self.cpu_median("baseline")


def time_corpus(
    name: str, files: Sequence[Path], repeats: int, settings: Settings
) -> CorpusResult:
    project = None
    skipped = 0
    for path in files:
        source = _read(path)
        if settings.cross_module:
            project = project_of(str(path), DEFAULT_KNOWLEDGE)
        if source is not None and not might_have_findings(source, DEFAULT_KNOWLEDGE, project):
            skipped += 1
    result = CorpusResult(name, len(files), count_lines(files), skipped, budget=BUDGETS.get(name))
    with tempfile.TemporaryDirectory() as empty:  # the working directory: no project there
        listing = Path(empty) / "files.txt"
        listing.write_text("\n".join(str(p) for p in files))
        for config in CONFIGS:
            result.runs[config] = []
            result.cpu[config] = []
        for _ in range(repeats):
            for config, options in CONFIGS.items():  # alternating: drift hits all alike
                run = run_flake8(options, listing, Path(empty), plugin=config != "baseline")
                result.runs[config].append(run.seconds)
                result.cpu[config].append(run.cpu_seconds)
                result.peak_kib[config] = max(result.peak_kib.get(config, 0), run.peak_kib)
                if config == "fcx_only":
                    result.fcx_reports = run.fcx_reports
    return result


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


# -- in-process profile: plugin vs bare LibCST parse --------------------------------------


@dataclass
class Profile:
    files: int = 0
    lines: int = 0
    parse: float = 0.0
    plugin: float = 0.0
    phases: Dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.plugin / self.parse if self.parse else 0.0


class _Timers:
    """Wraps the engine's phase entry points with accumulating timers."""

    def __init__(self) -> None:
        self.totals: Dict[str, float] = {}
        self._undo: List[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, label: str) -> None:
        original = getattr(owner, attribute)
        totals = self.totals

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[label] = totals.get(label, 0.0) + time.perf_counter() - start

        setattr(owner, attribute, timed)
        self._undo.append(lambda: setattr(owner, attribute, original))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()


def profile_files(files: Sequence[Path], settings: Settings) -> Profile:
    """Plugin time (prefilter to findings) vs LibCST's bare parse, on the files the
    prefilter lets through, best of 3 each; and the plugin's time by phase."""
    from flake8_flask_ctx.checker import analysis
    from flake8_flask_ctx.engine import names

    profile = Profile()
    knowledge = DEFAULT_KNOWLEDGE
    chosen: List[Tuple[Path, str]] = []
    for path in files:
        source = _read(path)
        if source is None:
            continue
        project = project_of(str(path), knowledge) if settings.cross_module else None
        if might_have_findings(source, knowledge, project):
            chosen.append((path, source))
    for path, source in chosen:
        try:
            parse = _best(lambda: cst.parse_module(source))
        except Exception:
            continue
        plugin = _best(lambda: check_source(source, knowledge, str(path), settings), clear=True)
        profile.files += 1
        profile.lines += source.count("\n")
        profile.parse += parse
        profile.plugin += plugin
    # One more pass with timers on the phases (their own overhead is small: a few calls
    # per file).  Phases nest: "other modules" is part of "analysis".
    timers = _Timers()
    timers.wrap(cst, "parse_module", "parse (LibCST, incl. other modules)")
    timers.wrap(names.MetadataWrapper, "resolve", "LibCST metadata (positions)")
    timers.wrap(names.ModuleIndex, "__init__", "index = metadata + own pass")
    timers.wrap(analysis.ModuleAnalysis, "findings", "analysis (dispatch, reach, codes)")
    timers.wrap(units_module, "_load", "  of which other modules (parse+index)")
    try:
        for path, source in chosen:
            project_module.clear_cache()
            try:
                check_source(source, knowledge, str(path), settings)
            except Exception:
                pass
    finally:
        timers.restore()
    profile.phases = dict(timers.totals)
    return profile


def _best(action: Callable[[], Any], repeats: int = 2, clear: bool = False) -> float:
    best = float("inf")
    for _ in range(repeats):
        if clear:
            project_module.clear_cache()
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


# -- growth -------------------------------------------------------------------------------


def generated_module(lines: int) -> str:
    """A Flask module of about ``lines`` lines: views that dispatch workers, helpers."""
    out = [
        "import threading",
        "from concurrent.futures import ThreadPoolExecutor",
        "from flask import Flask, request, current_app",
        "",
        "app = Flask(__name__)",
        "pool = ThreadPoolExecutor()",
        "",
    ]
    i = 0
    while len(out) < lines:
        out += [
            f"def helper_{i}(value):",
            f"    total = value * {i}",
            "    for item in range(3):",
            "        total += item",
            "    return total",
            "",
            f"def worker_{i}(data):",
            f"    result = helper_{i}(len(data))",
            "    return result",
            "",
            f"@app.route('/r{i}', methods=['POST'])",
            f"def view_{i}():",
            "    data = request.get_json(silent=True) or {}",
            f"    pool.submit(worker_{i}, data)",
            "    return {'ok': True}",
            "",
        ]
        i += 1
    return "\n".join(out) + "\n"


def dense_module(lines: int) -> str:
    """A generated module of constant tables (as code generators write them) with one
    threaded view: nearly all of it is data the analysis must walk past."""
    out = [
        "import threading",
        "from flask import Flask, request",
        "",
        "app = Flask(__name__)",
        "",
    ]
    table = 0
    while len(out) < lines - 12:
        out.append(f"TABLE_{table} = {{")
        out += [f"    'key_{table}_{row}': ({row}, {row * 2}, 'value {row}')," for row in range(50)]
        out.append("}")
        table += 1
    out += [
        "",
        "def export(rows):",
        "    return [TABLE_0.get(row) for row in rows] + [request.args.get('q')]",
        "",
        "@app.post('/export')",
        "def start_export():",
        "    threading.Thread(target=export, args=(list(TABLE_0),)).start()",
        "    return {'started': True}",
    ]
    return "\n".join(out) + "\n"


def measure_dense(lines: int = 20_000, repeats: int = 2) -> Dict[str, float]:
    """flake8 with and without the plugin on one dense generated module (target: at
    most 1.5x the time and 2x the memory of flake8 alone)."""
    with tempfile.TemporaryDirectory() as directory:
        module = Path(directory) / "tables.py"
        module.write_text(dense_module(lines), encoding="utf-8")
        listing = Path(directory) / "files.txt"
        listing.write_text(str(module))
        runs: Dict[str, List[Flake8Run]] = {"baseline": [], "with_fcx": []}
        for _ in range(repeats):
            for config in runs:
                runs[config].append(run_flake8(
                    CONFIGS[config], listing, Path(directory), plugin=config != "baseline"
                ))
    base = min(r.cpu_seconds for r in runs["baseline"])
    fcx = min(r.cpu_seconds for r in runs["with_fcx"])
    base_mem = max(r.peak_kib for r in runs["baseline"])
    fcx_mem = max(r.peak_kib for r in runs["with_fcx"])
    return {
        "lines": float(lines), "baseline_s": base, "with_fcx_s": fcx,
        "ratio": fcx / base if base else 0.0, "baseline_mb": base_mem / 1024,
        "with_fcx_mb": fcx_mem / 1024, "memory_ratio": fcx_mem / base_mem if base_mem else 0.0,
        "findings": float(runs["with_fcx"][-1].fcx_reports),
    }


def chain_module(depth: int) -> str:
    out = ["from concurrent.futures import ThreadPoolExecutor", "from flask import Flask, request",
           "", "app = Flask(__name__)", "pool = ThreadPoolExecutor()", ""]
    for i in range(depth):
        out += [f"def step_{i}():", f"    return step_{i + 1}()", ""]
    out += [f"def step_{depth}():", "    return request.args", ""]
    out += ["@app.route('/')", "def index():", "    pool.submit(step_0)", "    return 'ok'", ""]
    return "\n".join(out)


def growth() -> Dict[str, List[Dict[str, float]]]:
    settings = Settings(cross_module=False)
    sizes = []
    for lines in (500, 1000, 2000, 5000):
        source = generated_module(lines)
        seconds = _best(lambda: check_source(source, DEFAULT_KNOWLEDGE, None, settings))
        parse = _best(lambda: cst.parse_module(source))
        real = source.count("\n")
        sizes.append({
            "lines": real, "ms": seconds * 1000, "ms_per_1000_lines": seconds * 1e6 / real,
            "parse_ms": parse * 1000, "ratio_to_parse": seconds / parse,
        })
    depths = []
    for depth in (10, 50, 100, 200):
        source = chain_module(depth)
        seconds = _best(lambda: check_source(source, DEFAULT_KNOWLEDGE, None, settings))
        found = check_source(source, DEFAULT_KNOWLEDGE, None, settings)
        depths.append({"depth": depth, "ms": seconds * 1000, "findings": len(found)})
    shared = []
    for views in (250, 500, 1000):
        source = shared_chain_module(views)
        started = time.process_time()
        found = check_source(source, DEFAULT_KNOWLEDGE, None, settings)
        seconds = time.process_time() - started
        shared.append({"views": views, "ms": seconds * 1000, "findings": len(found)})
    return {"file_size": sizes, "call_depth": depths, "shared_chain": shared}


def shared_chain_module(views: int) -> str:
    """Issue 26's shape: view i submits ``w{i+1}``; each ``w{i}`` reads ``request`` and
    calls ``w{i+1}``.  Every site reaches the same chain: linear only if what a
    function reaches is worked out once (it was quadratic: 27.7 s at 2,000 views)."""
    lines = ["import threading", "from flask import Flask, request", "app = Flask(__name__)", ""]
    for i in range(views):
        call = f"    return w{i + 1}()" if i + 1 < views else "    return 1"
        lines += [f"def w{i}():", "    request.args.get('q')", call, ""]
    for i in range(views):
        lines += [f"@app.post('/v{i}')", f"def v{i}():",
                  f"    threading.Thread(target=w{min(i + 1, views - 1)}).start()",
                  "    return 'ok'", ""]
    return "\n".join(lines) + "\n"


# -- report -------------------------------------------------------------------------------


def machine() -> Dict[str, Any]:
    import flake8
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpus": os.cpu_count(),
        "flake8": flake8.__version__,
        "libcst": _version("libcst"),
        "date": time.strftime("%Y-%m-%d"),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    from importlib.metadata import version
    try:
        return version(package)
    except Exception:
        return "?"


def print_report(
    results: Sequence[CorpusResult],
    profiles: Dict[str, Profile],
    grown: Dict[str, List[Dict[str, float]]],
    info: Dict[str, Any],
    repeats: int,
) -> None:
    print(f"\nmachine: {info['cpu']} x{info['cpus']}, Python {info['python']}, "
          f"flake8 {info['flake8']}, libcst {info['libcst']}, {info['date']}")
    print(f"flake8 -j1 --isolated, median of {repeats} alternating runs\n")
    header = (f"{'corpus':<11}{'files':>6}{'lines':>9}{'skipped':>9}"
              f"{'E,W,F s':>9}{'+FCX s':>9}{'ratio':>7}{'CPU s':>8}{'CPU x':>7}"
              f"{'target':>8}{'FCX s':>8}"
              f"{'ms/file':>9}{'ms/kLOC':>9}{'peak MB':>9}{'mem x':>7}{'FCX':>5}")
    print(header)
    print("-" * len(header))
    for r in results:
        extra = r.median("with_fcx") - r.median("baseline")
        budget = f"{r.budget:.2f}x" if r.budget else "-"
        mark = "" if not r.budget else (
            " ok" if r.cpu_ratio("with_fcx") <= r.budget else " OVER"
        )
        print(f"{r.name:<11}{r.files:>6}{r.lines:>9}{r.prefilter_skipped:>9}"
              f"{r.median('baseline'):>9.2f}{r.median('with_fcx'):>9.2f}"
              f"{r.ratio('with_fcx'):>6.3f}x{r.cpu_median('baseline'):>8.2f}"
              f"{r.cpu_ratio('with_fcx'):>6.3f}x{budget:>8}{r.median('fcx_only'):>8.2f}"
              f"{extra * 1000 / r.files:>9.2f}{extra * 1e6 / max(r.lines, 1):>9.2f}"
              f"{r.peak_kib['with_fcx'] / 1024:>9.0f}"
              f"{r.peak_kib['with_fcx'] / max(r.peak_kib['baseline'], 1):>6.2f}x"
              f"{r.fcx_reports:>5}{mark}")
    print("\n(ratio: wall time; CPU s, CPU x: user + system time of the plain flake8 run and "
          "the ratio with the plugin, which the target is judged on; "
          "ms/file, ms/kLOC: what FCX adds to the baseline; skipped: files the text "
          "prefilter rejects without parsing; mem x: peak memory with the plugin against "
          "without; FCX: diagnostics found)\n")
    print("plugin vs LibCST bare parse, on the files the prefilter lets through (best of 2):")
    for name, p in profiles.items():
        if not p.files:
            print(f"  {name}: no file passes the prefilter")
            continue
        verdict = "ok" if p.ratio <= PARSE_BUDGET else "OVER"
        print(f"  {name}: {p.files} files, {p.lines} lines: parse {p.parse * 1000:.0f} ms, "
              f"plugin {p.plugin * 1000:.0f} ms = {p.ratio:.2f}x parse "
              f"(budget {PARSE_BUDGET}x: {verdict})")
        for phase, seconds in sorted(p.phases.items(), key=lambda kv: -kv[1]):
            print(f"      {phase:<34}{seconds * 1000:>9.0f} ms")
    print("\ngrowth (in process, single module, best of 3):")
    for row in grown["file_size"]:
        print(f"  {row['lines']:>6} lines: {row['ms']:>8.1f} ms "
              f"({row['ms_per_1000_lines']:.1f} ms per 1,000 lines; bare parse "
              f"{row['parse_ms']:.1f} ms, {row['ratio_to_parse']:.1f}x)")
    for row in grown["call_depth"]:
        print(f"  chain of {row['depth']:>3} helpers: {row['ms']:>8.1f} ms, "
              f"{row['findings']} finding(s)")
    for row in grown.get("shared_chain", []):
        print(f"  {row['views']:>4} views sharing one chain: {row['ms']:>8.1f} ms CPU, "
              f"{row['findings']} finding(s)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directories", nargs="*", help="extra corpora (one per directory)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per config (default 5)")
    parser.add_argument("--quick", action="store_true", help="smaller corpora, 3 repeats")
    parser.add_argument("--full", action="store_true",
                        help="whole corpora (default: every 3rd library file, every 8th "
                        "standard-library file)")
    parser.add_argument("--only", action="append", help="run only these corpora")
    parser.add_argument("--single-module", action="store_true",
                        help="measure with --flask-ctx-single-module (no cross-module reach)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--dense", action="store_true",
                        help="also a generated 20,000-line module of constant tables")
    parser.add_argument("--editor", action="store_true",
                        help="also every file of the given directories alone in a fresh "
                        "process, as editors lint on save (benchmarks/editor.py)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    settings = Settings(cross_module=not args.single_module)
    if args.single_module:
        CONFIGS["with_fcx"].append("--flask-ctx-single-module")
        CONFIGS["fcx_only"].append("--flask-ctx-single-module")
    found = corpora(args.directories, args.quick, args.full)
    if args.only:
        found = {k: v for k, v in found.items() if k in args.only}
    results: List[CorpusResult] = []
    profiles: Dict[str, Profile] = {}
    for name, files in found.items():
        print(f"[{name}] {len(files)} files ...", file=sys.stderr, flush=True)
        results.append(time_corpus(name, files, repeats, settings))
        r = results[-1]
        print(f"[{name}] E,W,F {r.median('baseline'):.2f} s, +FCX {r.median('with_fcx'):.2f} s "
              f"({r.ratio('with_fcx'):.3f}x), FCX only {r.median('fcx_only'):.2f} s",
              file=sys.stderr, flush=True)
        profiles[name] = profile_files(files, settings)
    grown = growth()
    info = machine()
    print_report(results, profiles, grown, info, repeats)
    extras: Dict[str, Any] = {}
    if args.dense:
        dense = extras["dense"] = measure_dense()
        print(f"\ndense module, {dense['lines']:.0f} lines (CPU, best of 2): flake8 "
              f"{dense['baseline_s']:.2f} s "
              f"/ {dense['baseline_mb']:.0f} MB, with the plugin {dense['with_fcx_s']:.2f} s "
              f"/ {dense['with_fcx_mb']:.0f} MB = {dense['ratio']:.2f}x time, "
              f"{dense['memory_ratio']:.2f}x memory (targets 1.5x, 2x), "
              f"{dense['findings']:.0f} finding(s)")
    if args.editor:
        import editor  # benchmarks/editor.py, beside this file

        extras["editor"] = [
            editor.measure(Path(d).resolve(), False, 2) for d in args.directories
        ]
        for summary in extras["editor"]:
            print(f"\none file per fresh process, {summary['root']}: {summary['files']} files, "
                  f"added CPU ms median {summary.get('median_ms')}, p95 {summary.get('p95_ms')}, "
                  f"max {summary.get('max_ms')} (target: max 250)")
    if args.json:
        payload: Dict[str, Any] = {
            "machine": info,
            "repeats": repeats,
            "cross_module": settings.cross_module,
            "corpora": [
                {**asdict(r), "medians": {c: r.median(c) for c in CONFIGS},
                 "ratio_with_fcx": r.ratio("with_fcx"),
                 "cpu_ratio_with_fcx": r.cpu_ratio("with_fcx")}
                for r in results
            ],
            "profiles": {k: {**asdict(v), "ratio": v.ratio} for k, v in profiles.items()},
            "growth": grown,
            **extras,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
