"""Run one fixture under real Flask in a fresh interpreter and report what failed where.

Child side (``python -m runtime.harness --child FIXTURE --out RESULT.json``): install the
probes, import the fixture, drive every route of every Flask app it defines with the test
client, wait for everything each request started, and write the observations as JSON.
A fresh interpreter per fixture is the isolation: module-level executors, monkeypatches and
imported modules die with it, and a fixture that hangs is killed by the parent's timeout.

Parent side: :func:`run_isolated` launches the child and returns a :class:`HarnessRun`.

Human side (``python -m runtime.harness PATH...``, with ``tests`` on ``PYTHONPATH``): run
fixtures or whole directories (e.g. your own samples in /tmp), each isolated, and print what
happened and the verdict against the markers.

How routes are driven (the conventions of tests/FIXTURES.md):
* URL variables: ``1`` for int/float converters, a fixed UUID for uuid, ``"x"`` otherwise;
* every route gets the query ``?q=flask&page=1``;
* methods other than GET get the JSON body ``{"name": "ada", "items": [1, 2, 3]}``;
* a view whose source mentions ``.files`` gets a multipart body instead: ``name=ada`` and a
  small text file under ``file`` and under every key the module reads from ``files``;
* redirects are not followed; the body is consumed (streaming bodies run here) and the
  response is closed (``call_on_close`` callbacks run here), then the gate opens;
* after each request (and after the import) the drainers of task queues start their
  workers and everything the request started is waited for;
* after the last route, every task body (Celery task, dramatiq actor, huey task) that no
  route queued is queued once, with the fixture's ``RUNTIME_TASK_ARGS``, and waited for;
* last, each ``flask`` command the fixture lists in ``RUNTIME_CLI`` (e.g. ``[["rq",
  "worker"]]``: a queue worker started from the app's CLI, which runs its jobs inside the
  command's app context) is invoked on the driver thread with the first app's
  ``test_cli_runner()``; the jobs it performs record themselves, the command's own
  exception (or non-zero exit) is an observation.  RQ jobs then wait for that command
  instead of being drained by the harness's worker after each request.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from runtime import kinds
from runtime.probes import (
    CLI_COMMANDS,
    FixtureConventionError,
    Observation,
    Probes,
    describe_callable,
    install_in_spawned_child,
    is_stream,
    user_callable_of,
)

TESTS_DIR = Path(__file__).resolve().parent.parent

QUERY = {"q": "flask", "page": "1"}
JSON_BODY: Dict[str, Any] = {"name": "ada", "items": [1, 2, 3]}
UPLOAD = b"fixture upload\n"
_FILES_KEY = re.compile(r"""files\s*(?:\[\s*|\.get\(\s*|\.getlist\(\s*)["']([^"']+)["']""")

ROUTE_WAIT = 5.0
"""Seconds to wait for what one request started (workers are meant to finish at once)."""
GATE_FALLBACK = 2.0
"""Seconds held work waits for a request that blocks on something the gate cannot see."""
ROUTE_TASK_BODIES = "task bodies no route queued"
"""Pseudo-route of the one run the harness gives each task body no route dispatched."""
SUBPROCESS_TIMEOUT = 45.0
"""Seconds before the parent kills a fixture's interpreter."""


# ---------------------------------------------------------------------------------------------
# child side
# ---------------------------------------------------------------------------------------------
def import_fixture(path: Path) -> ModuleType:
    """Import the fixture by its stem so process pools can pickle its functions by name."""
    directory = str(path.parent.resolve())
    if directory not in sys.path:
        sys.path.insert(0, directory)
    name = path.stem
    existing = sys.modules.get(name)
    stdlib = getattr(sys, "stdlib_module_names", ())  # Python 3.10+
    if existing is not None or name in stdlib:
        raise RuntimeError(
            f"harness: fixture module name {name!r} clashes with an already imported or "
            f"standard module; rename the fixture"
        )
    return importlib.import_module(name)


def find_apps(module: ModuleType) -> List[Any]:
    """Every Flask app defined at module level; ``create_app()`` if there is none."""
    from flask import Flask

    apps: List[Any] = []
    for value in vars(module).values():
        # type(), not isinstance(): isinstance() would resolve context-local proxies.
        if issubclass(type(value), Flask) and all(value is not a for a in apps):
            apps.append(value)
    factory = getattr(module, "create_app", None)
    if not apps and callable(factory):
        created = factory()
        if isinstance(created, Flask):
            apps.append(created)
    return apps


def url_values(rule: Any) -> Dict[str, Any]:
    values: Dict[str, Any] = {}
    for argument in sorted(rule.arguments):
        if rule.defaults and argument in rule.defaults:
            continue
        converter = type(rule._converters.get(argument)).__name__
        if converter in ("IntegerConverter", "FloatConverter"):
            values[argument] = 1
        elif converter == "UUIDConverter":
            values[argument] = uuid.UUID("12345678-1234-5678-1234-567812345678")
        elif converter == "AnyConverter":
            values[argument] = next(iter(_any_items(rule._converters[argument])), "x")
        else:
            values[argument] = "x"
    return values


def _any_items(converter: Any) -> List[str]:
    items = getattr(converter, "items", None)
    if items:
        return list(items)
    match = re.match(r"\(\?:(.*)\)$", getattr(converter, "regex", ""))
    return [re.sub(r"\\(.)", r"\1", item) for item in match.group(1).split("|")] if match else []


def file_fields(view: Any, module_source: str) -> List[str]:
    """Upload field names when the view reads ``request.files``; empty when it does not."""
    try:
        view_source = inspect.getsource(inspect.unwrap(view))
    except (OSError, TypeError):
        return []
    if ".files" not in view_source:
        return []
    return sorted({"file", *_FILES_KEY.findall(module_source)})


def request_kwargs(method: str, uploads: Sequence[str]) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {"method": method, "query_string": QUERY}
    if uploads:
        data: Dict[str, Any] = {"name": JSON_BODY["name"]}
        for key in uploads:
            data[key] = (io.BytesIO(UPLOAD), f"{key}.txt")
        kwargs["data"] = data
        kwargs["content_type"] = "multipart/form-data"
    elif method != "GET":
        kwargs["json"] = JSON_BODY
    return kwargs


@dataclass
class RouteRun:
    method: str
    url: str
    status: Optional[int] = None
    gate: str = ""

    def describe(self) -> str:
        status = self.status if self.status is not None else "no response"
        gate = f", held work released because {self.gate}" if self.gate else ""
        return f"{self.method} {self.url} -> {status}{gate}"


def wait_for_work(probes: Probes, timeout: float) -> None:
    """Wait for every thread/future/process/pool task started so far, then collect failures."""
    deadline = time.monotonic() + timeout
    while True:
        probes.drain()
        pending = probes.tracker.pending()
        if not pending:
            break
        if time.monotonic() >= deadline:
            for work in pending:
                probes.tracker.abandoned.add(work.key)
                probes.recorder.observations.append(
                    Observation(
                        kind=kinds.HUNG,
                        source=work.source,
                        callable=work.callable,
                        thread=work.thread,
                        exc_type="still running",
                        message=f"not finished {timeout:.0f} s after the request",
                        route=probes.recorder.route,
                    )
                )
            break
        for work in pending:
            work.wait(max(0.0, deadline - time.monotonic()))
    probes.collect_futures()
    probes.collect_processes()


def raised_by_body(exc: BaseException) -> bool:
    """True when ``client.open()`` raised while pulling the response body, not in the app.

    Werkzeug's test client (like a real server) iterates a streamed body until it has the
    first chunk inside ``open()`` -- after Flask returned and popped the contexts -- so a
    generator failing on its first item surfaces there.  Told apart by what werkzeug's
    ``run_wsgi_app`` was calling: the application (``Flask.__call__``) or the iterator.
    """
    frames = [frame for frame, _lineno in traceback.walk_tb(exc.__traceback__)]
    callee = None
    for caller, next_frame in zip(frames, frames[1:]):  # the innermost run_wsgi_app wins
        if caller.f_code.co_name == "run_wsgi_app" and (
            caller.f_globals.get("__name__") == "werkzeug.test"
        ):
            callee = next_frame
    if callee is None or callee.f_code.co_name == "run_wsgi_app":
        return False
    called_the_app = callee.f_code.co_name in ("__call__", "wsgi_app") and str(
        callee.f_globals.get("__name__", "")
    ).startswith("flask")
    return not called_the_app


@contextlib.contextmanager
def bodies_returned(probes: Probes) -> Iterator[None]:
    """Profile the request on the driver: where fixture code *returns* an iterable body.

    ``return rows()`` from a view (or from a helper the view returns through) hands Flask
    a generator that it iterates after the view is gone; the ``return`` is that body's
    site (a FCX300 marker's line).  Python has no event for a generator's creation, but
    the frame returning it still points at the ``return`` statement.
    """
    finder = probes.recorder.sites

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "return" and is_stream(arg):
            site = finder.of_frame(frame)
            if site is not None:
                probes.stream_sites.append(site)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def report_unstarted(probes: Probes) -> None:
    """Threads/processes the fixture built and never started: they ran nothing."""
    for work, sites, kind in probes.unstarted.take():
        probes.recorder.observations.append(
            Observation(
                kind=kinds.NOT_STARTED,
                source=kind,
                callable=describe_callable(user_callable_of(work) or work),
                thread="",
                exc_type="never started",
                message="built by the fixture, but start() was never called: it ran nothing",
                route=probes.recorder.route,
                sites=sites,
            )
        )


def drive(app: Any, module_source: str, probes: Probes, routes: List[RouteRun]) -> None:
    """Call every route of ``app`` once per method, each followed by a full wait."""
    client = app.test_client()
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    for rule in rules:
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        built = rule.build(url_values(rule), append_unknown=False)
        url = built[1] if built else rule.rule
        uploads = file_fields(app.view_functions.get(rule.endpoint), module_source)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            run = RouteRun(method, url)
            routes.append(run)
            probes.recorder.route = f"{method} {url}"
            probes.gate.close()
            probes.stream_sites.clear()

            def body_sites() -> Tuple[str, ...]:
                return tuple(probes.stream_sites)

            try:
                with bodies_returned(probes):
                    response = client.open(url, **request_kwargs(method, uploads))
                run.status = response.status_code
                try:
                    response.get_data()
                    if probes.stream_sites:
                        probes.recorder.finished(kinds.SOURCE_BODY, "a streamed body", "")
                except Exception as exc:
                    probes.recorder.exception(exc, kinds.SOURCE_BODY, sites=body_sites())
                try:
                    response.close()
                except Exception as exc:
                    probes.recorder.exception(exc, kinds.SOURCE_CLOSE)
            except Exception as exc:
                if raised_by_body(exc):
                    probes.recorder.exception(exc, kinds.SOURCE_BODY, sites=body_sites())
                else:
                    probes.recorder.view_exception(exc)
            finally:
                if not probes.gate.is_open():
                    probes.gate.open("")
                run.gate = probes.gate.opened_by
            wait_for_work(probes, ROUTE_WAIT)
            report_unstarted(probes)
            explained = probes.recorder.settle_view_exceptions()
            if run.status is not None and run.status >= 500 and not explained:
                probes.recorder.observations.append(
                    Observation(
                        kind=kinds.VIEW_ERROR,
                        source=kinds.SOURCE_VIEW,
                        callable="",
                        thread=threading.current_thread().name,
                        exc_type=f"HTTP {run.status}",
                        message="the view returned a server error without raising",
                        route=probes.recorder.route,
                    )
                )
    probes.recorder.route = ""


def cli_commands(module: ModuleType) -> List[List[str]]:
    """The fixture's ``RUNTIME_CLI``: a list of ``flask`` commands, each a list of strings."""
    declared = getattr(module, CLI_COMMANDS, None)
    if declared is None:
        return []
    valid = isinstance(declared, (list, tuple)) and all(
        isinstance(command, (list, tuple)) and command and all(isinstance(a, str) for a in command)
        for command in declared
    )
    if not valid:
        raise FixtureConventionError(
            f"{CLI_COMMANDS} must be a list of argument lists, e.g. [['rq', 'worker']], "
            f"not {declared!r}"
        )
    return [list(command) for command in declared]


def run_cli_commands(app: Any, commands: List[List[str]], probes: Probes) -> None:
    """Invoke each command as ``flask ARGS...`` would, then wait for what it started.

    On the driver thread, like the real command in its own process; a worker it runs
    performs its jobs here, each recording its own failure (RQ catches it).  What the
    command itself raised, or a non-zero exit (a usage error), is an observation.
    """
    runner = app.test_cli_runner()
    for command in commands:
        source = "flask " + " ".join(command)
        probes.recorder.route = source
        result = runner.invoke(args=command)
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            probes.recorder.exception(exc, source)
        elif result.exit_code:
            output = result.output.strip().splitlines()
            probes.recorder.observations.append(
                Observation(
                    kind=kinds.OTHER,
                    source=source,
                    callable="",
                    thread=threading.current_thread().name,
                    exc_type=f"exit code {result.exit_code}",
                    message=output[-1] if output else "the command failed",
                    route=source,
                )
            )
        wait_for_work(probes, ROUTE_WAIT)
    probes.recorder.route = ""


def run_child(fixture: Path, out: Path) -> None:
    """Everything that happens inside the fixture's interpreter."""
    started = time.monotonic()
    result: Dict[str, Any] = {"fixture": str(fixture), "routes": [], "error": None}
    with tempfile.TemporaryDirectory(prefix="fcx-runtime-") as scratch:
        probes = Probes(fixture.parent, Path(scratch) / "processes.jsonl", GATE_FALLBACK)
        probes.install()
        routes: List[RouteRun] = []
        try:
            probes.recorder.route = "import"
            module: Optional[ModuleType] = None
            try:
                module = import_fixture(fixture)
            except Exception as exc:
                probes.recorder.exception(exc, kinds.SOURCE_IMPORT)
            commands = cli_commands(module) if module is not None else []
            probes.cli_workers = bool(commands)
            wait_for_work(probes, ROUTE_WAIT)
            report_unstarted(probes)
            probes.recorder.route = ""
            if module is not None:
                source = fixture.read_text(encoding="utf-8")
                apps = find_apps(module)
                if not apps:
                    result["error"] = "no Flask app found (expected app = Flask(...))"
                server_name = any(app.config.get("SERVER_NAME") for app in apps)
                probes.recorder.entry_tiers = kinds.entry_tiers(server_name)
                for app in apps:
                    drive(app, source, probes, routes)
                probes.recorder.route = ROUTE_TASK_BODIES
                probes.run_task_bodies(module)
                wait_for_work(probes, ROUTE_WAIT)
                report_unstarted(probes)
                probes.recorder.route = ""
                if apps and commands:
                    run_cli_commands(apps[0], commands, probes)
        except FixtureConventionError as exc:
            result["error"] = f"fixture convention: {exc}"
        except Exception:
            result["error"] = "harness failure:\n" + traceback.format_exc()
        result["routes"] = [r.describe() for r in routes]
        result["observations"] = probes.recorder.as_json()
        result["completed"] = probes.recorder.completed
        result["gate_fallbacks"] = probes.gate.fallbacks
        result["duration"] = round(time.monotonic() - started, 3)
        out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    _shutdown_quickly()


def _shutdown_quickly() -> None:
    """Leave without waiting for stray non-daemon threads; terminate child processes."""
    import multiprocessing

    for child in multiprocessing.active_children():
        child.terminate()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# ---------------------------------------------------------------------------------------------
# parent side
# ---------------------------------------------------------------------------------------------
@dataclass
class HarnessRun:
    """What one isolated run produced, or why it produced nothing."""

    fixture: Path
    result: Optional[Dict[str, Any]]
    returncode: Optional[int]
    stderr: str
    wall: float
    timed_out: bool = False

    @property
    def observations(self) -> List[Dict[str, str]]:
        return list(self.result.get("observations", [])) if self.result else []

    def failure(self) -> Optional[str]:
        """Why the run itself is unusable (not the fixture's verdict), or None."""
        if self.timed_out:
            return f"the fixture's interpreter was killed after {self.wall:.0f} s"
        if self.result is None:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            return f"the harness produced no result (exit code {self.returncode}):\n{tail}"
        error = self.result.get("error")
        return str(error) if error else None


def run_isolated(fixture: Path, timeout: float = SUBPROCESS_TIMEOUT) -> HarnessRun:
    """Run ``fixture`` in a fresh interpreter (``python -m runtime.harness --child``)."""
    fixture = fixture.resolve()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p
    )
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_XDIST_WORKER", None)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fcx-runtime-") as scratch:
        out = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "runtime.harness", "--child", str(fixture)]
        command += ["--out", str(out)]
        # A session of its own, so a timeout kills the fixture's spawned children too.
        process = subprocess.Popen(
            command,
            cwd=scratch,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            _stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _stdout, stderr = process.communicate()
            wall = time.monotonic() - started
            return HarnessRun(fixture, None, None, stderr, wall, timed_out=True)
        result = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    wall = time.monotonic() - started
    return HarnessRun(fixture, result, process.returncode, stderr, wall)


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------
def _human(paths: Sequence[Path]) -> int:
    from expectations import (
        expected_in,
        fixture_files,
        runtime_no_work_reason,
        runtime_skip_reason,
    )
    from runtime.verdict import judge

    files: List[Path] = []
    for path in paths:
        files.extend(fixture_files(path) if path.is_dir() else [path])
    disagreements = 0
    started = time.monotonic()
    for path in files:
        source = path.read_text(encoding="utf-8")
        reason = runtime_skip_reason(source)
        if reason:
            print(f"SKIP  {path.name}: {reason}")
            continue
        run = run_isolated(path)
        verdict = judge(path.name, expected_in(source), run, runtime_no_work_reason(source))
        print(f"{'ok  ' if verdict.ok else 'FAIL'}  {verdict.headline()}  [{run.wall:.2f} s]")
        if not verdict.ok or os.environ.get("FCX_RUNTIME_VERBOSE"):
            print("      " + verdict.report().replace("\n", "\n      "))
        disagreements += not verdict.ok
    elapsed = time.monotonic() - started
    print(f"{len(files)} fixtures, {disagreements} disagreements, {elapsed:.1f} s")
    return 1 if disagreements else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="+", type=Path, help="fixture files or directories")
    parser.add_argument("--child", action="store_true", help="run one fixture in this process")
    parser.add_argument("--out", type=Path, help="where --child writes its JSON result")
    args = parser.parse_args(argv)
    if args.child:
        if len(args.paths) != 1 or args.out is None:
            parser.error("--child takes one fixture and --out")
        run_child(args.paths[0].resolve(), args.out)
        return 0
    return _human(args.paths)


if __name__ == "__main__":
    sys.exit(main())
elif __name__ == "__mp_main__":
    # This module is a spawned child's main module: report the child's own failures.
    install_in_spawned_child()
