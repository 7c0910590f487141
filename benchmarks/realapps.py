"""The real-application check: run flake8-flask-ctx on published Flask applications.

    python benchmarks/realapps.py                          # the default applications
    python benchmarks/realapps.py --apps indico==3.2.9 flaskbb --json realapps.json
    python benchmarks/realapps.py --workdir ~/fcx-apps --refresh -j 4

Why: the fixtures and tests say what the plugin should find in code written for it; only
real applications say what it finds -- and what it wrongly finds -- in code nobody wrote
for it.  Every report printed here is meant to be triaged by a person (true finding,
false positive, noise), and ``--json`` keeps the run so a triage document can be checked
against it later.

How, and why that way:

* The applications come from the package index with the plain
  ``python -m pip download --no-deps -d DIR NAME`` (wheel or sdist, whatever pip picks),
  so nothing third-party is ever copied into this repository.  Everything goes to a work
  directory outside the repository (default ``$TMPDIR/fcx-realapps``); a work directory
  inside the repository is refused, because a stray ``git add`` would then commit
  third-party code.  Downloads and unpacked trees are reused across runs (``--refresh``
  redoes them), so a re-run costs only the lint.
* An application that cannot be downloaded or unpacked is reported as not available and
  skipped: the check is about the plugin, not about the index being reachable.
* flake8 runs the way a user runs it: from the application's root (the directory holding
  its top-level packages) as working directory, ``python -m flake8 --isolated
  --select=FCX .``, with the interpreter running this script, so the plugin installed
  there is the one checked.  ``--isolated`` keeps the application's own flake8
  configuration (its selections, excludes, per-file ignores) out of the result.
  ``PYTHONSAFEPATH`` is set for the child so that on Python 3.11+ ``-m`` does not put the
  application's root first on ``sys.path``, where one of its top-level modules could
  shadow flake8, LibCST or the plugin itself; on older interpreters such clashes are
  only warned about.
* Wall and CPU time of the flake8 process (and of the worker processes it waits for) are
  measured per application from ``resource.getrusage(RUSAGE_CHILDREN)`` deltas, so
  ``-j`` runs are charged for all their workers.  Unix only, like ``benchmarks/run.py``.
* The exit status is 0 whenever the script itself worked: findings, unavailable
  applications and even a failing flake8 run are data to be read, not a failed check.
  A plugin that is not installed in this interpreter is a failure (exit 2): flake8 would
  silently report nothing.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import importlib.util
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import IO, Dict, Iterator, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent

DEFAULT_APPS = (
    "indico",
    "changedetection.io",
    "calibreweb",
    "flaskbb",
    "Flask-AppBuilder",
    "pgadmin4",
    # Issue 25's twelve (those on the package index; securedrop, Mailu and PowerDNS-Admin
    # are not): applications nobody here had tuned the linter for.
    "OctoPrint",
    "ckan",
    "superdesk-core",
    "invenio-app-rdm",
    "invenio-rdm-records",
    "zou",
    "privacyidea",
    "lemur",
    "ihatemoney",
    # More Flask applications and extensions from the index, chosen for their workers:
    # Celery/RQ tasks, thread pools, background callbacks, streamed responses.
    "apache-superset",
    "mlflow",
    "dash",
    "rq-dashboard",
    "Flask-SocketIO",
    "Flask-Executor",
    "Flask-APScheduler",
    "flask-rq2",
    "Flask-Admin",
    "Flask-Security-Too",
)

#: flake8's default ``--exclude``: the .py files counted per application are the ones
#: flake8 itself looks at when run with ``--isolated`` (no project configuration).
FLAKE8_DEFAULT_EXCLUDE = (
    ".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs", "*.egg",
)

#: flake8's default output line: ``path:row:col: CODE text``.  The path is matched
#: lazily, so a colon inside a path or a message does not shift the fields.
REPORT_LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) ?(?P<message>.*)$"
)

ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")


class UnsafeArchive(Exception):
    """An archive member would land outside its extraction directory."""


@dataclass
class Report:
    """One flake8 report, its path relative to the application's root."""

    path: str
    line: int
    col: int
    code: str
    message: str


@dataclass
class AppResult:
    """Everything known about one application after the run (the JSON's unit).

    ``status`` is ``ok`` (flake8 ran, exit 0 or 1), ``not available`` (download or
    unpack failed), ``flake8 failed`` (any other exit status: the output is kept) or
    ``timed out``.
    """

    requirement: str
    status: str = "not available"
    name: str = ""
    version: str = ""
    archive: str = ""
    root: str = ""
    files: int = 0
    reports: List[Report] = field(default_factory=list)
    counts: Dict[str, int] = field(default_factory=dict)
    wall_s: Optional[float] = None
    cpu_s: Optional[float] = None
    flake8_exit: Optional[int] = None
    detail: str = ""
    warnings: List[str] = field(default_factory=list)
    plugin_digest: str = ""


# -- arguments -------------------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """The command line; a work directory inside the repository is refused here."""
    parser = argparse.ArgumentParser(
        description="Run flake8-flask-ctx on real Flask applications from the package index.",
    )
    parser.add_argument(
        "--apps", nargs="+", metavar="REQUIREMENT", default=list(DEFAULT_APPS),
        help="pip requirement strings, e.g. 'indico==3.2.9' (default: %(default)s)",
    )
    parser.add_argument(
        "--workdir", type=Path,
        default=Path(tempfile.gettempdir()) / "fcx-realapps",
        help="where downloads and unpacked applications go, outside the repository "
             "(default: %(default)s)",
    )
    parser.add_argument(
        "--refresh", action="store_true",
        help="download and unpack again even if the work directory has the application",
    )
    parser.add_argument(
        "-j", "--jobs", metavar="N", default=None,
        help="passed to flake8 as -j N (default: flake8's own default, 'auto')",
    )
    parser.add_argument(
        "--timeout", type=float, default=0.0, metavar="SECONDS",
        help="give up on one application's flake8 run after this long (default: no limit)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    workdir = args.workdir.expanduser().resolve()
    if workdir == REPO or REPO in workdir.parents:
        parser.error(
            f"--workdir {workdir} is inside the repository {REPO}: third-party code "
            "must never be where it could be committed"
        )
    args.workdir = workdir
    return args


# -- download and unpack ---------------------------------------------------------------


def slot_name(requirement: str) -> str:
    """A directory name for one requirement string, distinct for distinct strings."""
    safe = re.sub(r"[^A-Za-z0-9._=-]", "_", requirement.strip())
    if safe != requirement.strip():
        safe += "-" + hashlib.sha1(requirement.encode("utf-8")).hexdigest()[:8]
    return safe


def find_archive(directory: Path) -> Optional[Path]:
    """The one archive pip saved in ``directory`` (``--no-deps``: there is only one)."""
    if not directory.is_dir():
        return None
    found = sorted(
        p for p in directory.iterdir()
        if p.is_file() and p.name.lower().endswith(ARCHIVE_SUFFIXES)
    )
    return found[0] if found else None


def last_lines(text: str, count: int = 3) -> str:
    """The end of a tool's output: where pip and flake8 say what went wrong."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])


def download(requirement: str, target: Path) -> Tuple[Optional[Path], str]:
    """Download ``requirement`` into ``target`` (reusing it); the archive or why not.

    pip writes into a scratch directory that is renamed only on success, so an
    interrupted download is never mistaken for a finished one by the next run.
    """
    existing = find_archive(target)
    if existing is not None:
        return existing, "reused"
    scratch = target.with_name(target.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(scratch), requirement,
    ]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    archive = find_archive(scratch)
    if done.returncode != 0 or archive is None:
        shutil.rmtree(scratch, ignore_errors=True)
        stderr = done.stderr.decode("utf-8", "replace")
        errors = "\n".join(line for line in stderr.splitlines() if line.startswith("ERROR"))
        why = last_lines(errors or stderr, 2) or f"pip exit {done.returncode}"
        return None, why
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    return target / archive.name, "downloaded"


def member_path(name: str) -> Optional[PurePosixPath]:
    """The relative path an archive member may be written to; None for a directory entry.

    Absolute names, drive letters and ``..`` components are refused outright rather
    than rewritten: an archive carrying them is not one to lint.
    """
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if name.startswith(("/", "\\")) or (parts and ":" in parts[0]) or ".." in parts:
        raise UnsafeArchive(f"unsafe member name {name!r}")
    return PurePosixPath(*parts) if parts else None


def write_member(dest: Path, relative: PurePosixPath, source: IO[bytes]) -> None:
    """Copy one member's bytes to ``dest / relative``, checked to stay inside ``dest``."""
    target = dest.joinpath(*relative.parts)
    if dest.resolve() not in target.resolve().parents:
        raise UnsafeArchive(f"member {relative} escapes the extraction directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        shutil.copyfileobj(source, out)


def extract_zip(archive: Path, dest: Path) -> None:
    """Extract a wheel or zip sdist, member by member (only regular files are written)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            relative = member_path(info.filename)
            if relative is None or info.is_dir():
                continue
            with zf.open(info) as source:
                write_member(dest, relative, source)


def extract_tar(archive: Path, dest: Path) -> None:
    """Extract a tar sdist: regular files and directories only; links, devices skipped.

    Extraction is done by hand instead of ``extractall`` so the same rules hold on
    every supported Python (the ``filter`` argument exists only in newer patch releases).
    """
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            relative = member_path(member.name)
            if relative is None:
                continue
            if member.isdir():
                dest.joinpath(*relative.parts).mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            with source:
                write_member(dest, relative, source)


def unpack(archive: Path, target: Path) -> Path:
    """Unpack ``archive`` into ``target`` (reusing it) and return the application root.

    The root is the directory holding the top-level packages: the extraction directory
    for a wheel, the single top folder for an sdist (the extraction directory if an
    sdist has several).  Like the download, extraction goes through a scratch directory
    renamed only when complete.
    """
    if not target.is_dir():
        scratch = target.with_name(target.name + ".partial")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            if archive.name.lower().endswith((".whl", ".zip")):
                extract_zip(archive, scratch)
            else:
                extract_tar(archive, scratch)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        scratch.rename(target)
    if archive.name.lower().endswith(".whl"):
        return target
    entries = [p for p in target.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return target


def name_and_version(root: Path, archive: Path) -> Tuple[str, str]:
    """Name and version from the wheel's METADATA or the sdist's PKG-INFO.

    When neither can be read, the archive's file name (``name-version...``) is used.
    """
    candidates = sorted(root.glob("*.dist-info/METADATA")) + [root / "PKG-INFO"]
    for meta in candidates:
        try:
            text = meta.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        headers = email.parser.HeaderParser().parsestr(text)
        if headers.get("Name") and headers.get("Version"):
            return str(headers["Name"]), str(headers["Version"])
    stem = archive.name
    for suffix in ARCHIVE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    if archive.name.lower().endswith(".whl"):
        parts = stem.split("-")
        return parts[0], parts[1] if len(parts) > 1 else "?"
    name, _, version = stem.rpartition("-")
    return (name, version) if name else (stem, "?")


# -- lint --------------------------------------------------------------------------------


def python_files(root: Path) -> Iterator[Path]:
    """The .py files flake8 checks under ``root`` with its default excludes."""
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not any(fnmatch(d, pat) for pat in FLAKE8_DEFAULT_EXCLUDE)]
        for name in files:
            if name.endswith(".py") and not any(
                fnmatch(name, pat) for pat in FLAKE8_DEFAULT_EXCLUDE
            ):
                yield Path(directory) / name


def shadowing(root: Path) -> List[str]:
    """Top-level modules of the application that are also importable here.

    ``python -m`` puts the working directory first on ``sys.path`` (unless
    ``PYTHONSAFEPATH`` is honoured, Python 3.11+), so such a module could replace one
    flake8 or the plugin imports.
    """
    clashes = []
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and (entry / "__init__.py").is_file():
            name = entry.name
        elif entry.is_file() and entry.suffix == ".py":
            name = entry.stem
        else:
            continue
        if not name.isidentifier():
            continue
        try:
            if importlib.util.find_spec(name) is not None:
                clashes.append(name)
        except (ImportError, ValueError):
            continue
    return clashes


def child_cpu() -> float:
    """User plus system CPU seconds of all waited-for child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def parse_reports(output: str) -> Tuple[List[Report], List[str]]:
    """flake8's output as reports; lines that are not reports are returned apart.

    A line that does not look like a report right after one is taken as the
    continuation of a multi-line message.
    """
    reports: List[Report] = []
    stray: List[str] = []
    for line in output.splitlines():
        match = REPORT_LINE.match(line)
        if match:
            path = PurePosixPath(match["path"].replace("\\", "/"))
            if path.parts and path.parts[0] == ".":
                path = PurePosixPath(*path.parts[1:])
            reports.append(Report(
                str(path), int(match["line"]), int(match["col"]), match["code"],
                match["message"],
            ))
        elif reports and line.strip():
            reports[-1].message += "\n" + line
        elif line.strip():
            stray.append(line)
    reports.sort(key=lambda r: (r.path, r.line, r.col, r.code))
    return reports, stray


def run_flake8(
    root: Path, jobs: Optional[str], timeout: float
) -> Tuple[Optional[int], str, str, float, float]:
    """Run flake8 in ``root``; exit status (None: timed out), output, wall and CPU time.

    The child gets its own process group so that a timeout ends it together with any
    worker processes it started, and nothing else.
    """
    command = [sys.executable, "-m", "flake8", "--isolated", "--select=FCX"]
    if jobs is not None:
        command += ["-j", str(jobs)]
    command.append(".")
    env = dict(os.environ, PYTHONSAFEPATH="1", PYTHONIOENCODING="utf-8")
    cpu_before = child_cpu()
    start = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=timeout or None)
        status: Optional[int] = child.returncode
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        status = None
    wall = time.perf_counter() - start
    cpu = child_cpu() - cpu_before
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), wall, cpu


def plugin_version_line() -> str:
    """``flake8 --version``, which must name the plugin or the whole check is void."""
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--version"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tempfile.gettempdir(),
    )
    return " ".join(done.stdout.decode("utf-8", "replace").split())


def repo_revision() -> str:
    """The repository's commit (``-dirty`` if modified): which plugin code ran."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
    except OSError:
        return "unknown"
    return done.stdout.decode("utf-8", "replace").strip() or "unknown"


def plugin_digest() -> str:
    """A digest of the plugin's source files as this interpreter would import them.

    The plugin may be an editable install being worked on while this runs; comparing
    digests tells whether every application was checked by the same code.
    """
    spec = importlib.util.find_spec("flake8_flask_ctx")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    digest = hashlib.sha256()
    for location in locations:
        for path in sorted(Path(location).rglob("*.py")):
            digest.update(str(path.relative_to(location)).encode("utf-8") + b"\0")
            try:
                digest.update(path.read_bytes() + b"\0")
            except OSError:
                digest.update(b"unreadable\0")
    return digest.hexdigest()[:12] if locations else "not found"


def check_app(requirement: str, args: argparse.Namespace) -> AppResult:
    """Download, unpack and lint one application; every failure ends up in the result."""
    result = AppResult(requirement=requirement, name=requirement)
    slot = slot_name(requirement)
    downloads = args.workdir / "downloads" / slot
    apps = args.workdir / "apps" / slot
    if args.refresh:
        shutil.rmtree(downloads, ignore_errors=True)
        shutil.rmtree(apps, ignore_errors=True)
    progress(f"{requirement}: downloading")
    try:
        archive, how = download(requirement, downloads)
    except OSError as error:
        archive, how = None, str(error)
    if archive is None:
        result.detail = f"download failed: {how}"
        return result
    result.archive = str(archive)
    progress(f"{requirement}: {how} {archive.name}, unpacking")
    try:
        root = unpack(archive, apps)
    except (OSError, UnsafeArchive, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        result.detail = f"unpack failed: {error}"
        return result
    result.root = str(root)
    result.name, result.version = name_and_version(root, archive)
    result.files = sum(1 for _ in python_files(root))
    if sys.version_info < (3, 11):
        result.warnings += [
            f"top-level module {name!r} may shadow the installed one (python -m adds the "
            "working directory to sys.path)"
            for name in shadowing(root)
        ]
    progress(f"{requirement}: linting {result.files} files in {root}")
    before = plugin_digest()
    status, out, err, wall, cpu = run_flake8(root, args.jobs, args.timeout)
    result.plugin_digest = plugin_digest()
    if result.plugin_digest != before:
        result.warnings.append(
            f"the plugin's source changed while flake8 ran ({before} -> "
            f"{result.plugin_digest}): these reports may come from a mix of versions"
        )
    result.flake8_exit, result.wall_s, result.cpu_s = status, wall, cpu
    result.reports, stray = parse_reports(out)
    result.counts = dict(sorted(Counter(r.code for r in result.reports).items()))
    if status is None:
        result.status = "timed out"
        result.detail = f"flake8 killed after {args.timeout:g} s"
    elif status in (0, 1):
        result.status = "ok"
    else:
        result.status = "flake8 failed"
        result.detail = f"flake8 exit {status}: {last_lines(err, 20)}"
    if stray:
        result.warnings.append("output that is not a report: " + " | ".join(stray[:20]))
    if err.strip() and result.status == "ok":
        result.warnings.append("flake8 stderr: " + last_lines(err, 20))
    return result


# -- output ----------------------------------------------------------------------------


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the report."""
    print(f"[realapps] {message}", file=sys.stderr, flush=True)


def seconds(value: Optional[float]) -> str:
    """A time for the tables, or '-' when there is none."""
    return "-" if value is None else f"{value:.1f}"


def print_app(result: AppResult) -> None:
    """One application's header (name, version, files, reports per code, time), reports."""
    title = f"{result.name} {result.version}".strip()
    print(f"== {title} ==  (requirement: {result.requirement})")
    if result.status == "not available":
        print(f"   not available: {result.detail}")
        print()
        return
    per_code = ", ".join(f"{code}: {n}" for code, n in result.counts.items()) or "none"
    print(f"   root: {result.root}")
    print(f"   files: {result.files} .py   reports: {len(result.reports)} ({per_code})")
    print(f"   time: {seconds(result.wall_s)} s wall, {seconds(result.cpu_s)} s CPU"
          f"   plugin source digest: {result.plugin_digest}")
    if result.status != "ok":
        print(f"   {result.status.upper()}: {result.detail}")
    for warning in result.warnings:
        print(f"   warning: {warning}")
    for report in result.reports:
        print(f"   {report.path}:{report.line}:{report.col}: {report.code} {report.message}")
    print()


def print_summary(results: Sequence[AppResult]) -> None:
    """The closing table: app, version, files, reports, CPU seconds (and any status)."""
    rows = [("app", "version", "files", "reports", "CPU s", "status")]
    for r in results:
        available = r.status != "not available"
        rows.append((
            r.name,
            r.version or "-",
            str(r.files) if available else "-",
            str(len(r.reports)) if available else "-",
            seconds(r.cpu_s),
            "" if r.status == "ok" else r.status,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {2, 3, 4}
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths[:-1]) + ("  ------" if widths[-1] else ""))
    total_reports = sum(len(r.reports) for r in results)
    total_cpu = sum(r.cpu_s or 0.0 for r in results)
    print(f"total: {total_reports} reports, {total_cpu:.1f} s CPU")
    digests = sorted({r.plugin_digest for r in results if r.plugin_digest})
    if len(digests) > 1:
        print(
            "warning: the plugin's source changed during the run (digests "
            + ", ".join(digests) + "): the applications were not all checked by the same code"
        )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Check every requested application, print the reports, optionally write JSON."""
    args = parse_args(argv)
    version_line = plugin_version_line()
    if "flake8-flask-ctx" not in version_line:
        print(
            f"flake8 under {sys.executable} does not load flake8-flask-ctx "
            f"({version_line or 'flake8 not found'}): install the plugin there first",
            file=sys.stderr,
        )
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"flake8: {version_line}")
    spec = importlib.util.find_spec("flake8_flask_ctx")
    origin = Path(spec.origin).parent if spec is not None and spec.origin else None
    where = f"{REPO} at {repo_revision()}" if origin and REPO in origin.parents else "-"
    print(f"plugin source: {origin} (repository: {where}), digest {plugin_digest()}")
    print(f"workdir: {args.workdir}")
    print()
    results = []
    for requirement in args.apps:
        result = check_app(requirement, args)
        results.append(result)
        print_app(result)
        sys.stdout.flush()
    print_summary(results)
    if args.json is not None:
        document = {
            "python": sys.version.split()[0],
            "flake8": version_line,
            "revision_at_end": repo_revision(),
            "plugin_digest_at_end": plugin_digest(),
            "workdir": str(args.workdir),
            "jobs": args.jobs,
            "apps": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
