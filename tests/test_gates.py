"""The two cheap gates before the LibCST parse must be sound: they may let through a
module without findings, never reject one with findings."""

from __future__ import annotations

import ast
import gc
import textwrap
import weakref
import time
from pathlib import Path

import libcst
import pytest

from expectations import expected_in, fixture_files, options_in
from expectations import project_dirs, project_markers
from flake8_flask_ctx.index.candidates import has_candidates, project_import_names
from flake8_flask_ctx.checker.check import analyse, passes_ast_gate, place
from flake8_flask_ctx.options.settings import Settings
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE, Knowledge
from flake8_flask_ctx.index.prefilter import might_have_findings
from flake8_flask_ctx.index.project import clear_cache, project_of
from test_fixtures import settings_from

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROJECTS = FIXTURES / "projects"
POSITIVES = [p for p in fixture_files(FIXTURES) if expected_in(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", POSITIVES, ids=[p.stem for p in POSITIVES])
def test_every_positive_fixture_passes_both_gates(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    knowledge = Knowledge.build(settings_from(options_in(source)))
    project = project_of(str(path), knowledge)
    module, _ = project.module_name(path)
    assert might_have_findings(source, knowledge, project, module)
    tree = ast.parse(source)
    names = project_import_names(tree, project.top_level_names())
    assert has_candidates(tree, knowledge, names)
    assert passes_ast_gate(tree, knowledge, place(str(path), knowledge, Settings()))


@pytest.mark.parametrize("project", project_dirs(PROJECTS), ids=lambda p: p.name)
def test_every_reporting_project_module_passes_the_ast_gate(project: Path) -> None:
    """With the wrapper search (``may_be_wrapper``) narrowing the project names."""
    for relative, expected in project_markers(project).items():
        if expected:
            path = project / relative
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = place(str(path), DEFAULT_KNOWLEDGE, Settings(project_root=str(project)))
            assert passes_ast_gate(tree, DEFAULT_KNOWLEDGE, where), relative


NO_SITE = """\
    from flask import Flask, Response, jsonify, request

    app = Flask(__name__)
    TASKS = {"map": "a task list"}


    def totals(rows):
        return list(map(sum, rows))  # builtin map: synchronous


    @app.route("/tasks")
    def tasks():
        return jsonify(task=TASKS["map"], totals=totals([[1, 2]]), q=request.args.get("q"))
"""

SITES = {
    "aliased thread": "from threading import Thread as Job\nJob(target=print).start()\n",
    "aliased task decorator": "from celery import shared_task as st\n@st\ndef t():\n    pass\n",
    "thread subclass": "import threading\nclass W(threading.Thread):\n    pass\n",
    "pool method": "def f(pool, fn):\n    pool.submit(fn)\n",
    "streamed view": (
        "@app.route('/')\ndef v():\n    def gen():\n        yield 1\n    return gen()\n"
    ),
    "import-time copy": (
        "from flask import copy_current_request_context\n"
        "@copy_current_request_context\ndef w():\n    pass\n"
    ),
    "pool initializer": "from concurrent.futures import ThreadPoolExecutor\n"
                        "pool = ThreadPoolExecutor(2, 'w', init)\n",
    "pool initializer keyword": "import multiprocessing\n"
                                "pool = multiprocessing.Pool(initializer=init)\n",
    "done callback": "def v(future, cb):\n    future.add_done_callback(cb)\n",
    "bound submit through partial": (
        "import functools\nrun_later = functools.partial(pool.submit)\n"
    ),
    "make_response of a generator": (
        "def rows():\n    yield 1\ndef v():\n    return make_response(rows())\n"
    ),
    "add_url_rule of a generator view": (
        "def feed():\n    return (x for x in 'ab')\napp.add_url_rule('/', 'f', feed)\n"
    ),
    "class-based view": (
        "class Feed(MethodView):\n    def get(self):\n        def g():\n"
        "            yield 1\n        return g()\n"
    ),
}

NOT_SITES = {
    "a pool without initializer": "from concurrent.futures import ThreadPoolExecutor\n"
                                  "pool = ThreadPoolExecutor(max_workers=2)\n",
    "make_response without a generator": "def v():\n    return make_response('ok', 200)\n",
    "a class-based view without a generator": (
        "class Feed(MethodView):\n    def get(self):\n        return 'ok'\n"
    ),
}


@pytest.mark.parametrize("name", sorted(NOT_SITES))
def test_shapes_that_are_not_sites_are_rejected(name: str) -> None:
    assert not has_candidates(ast.parse(NOT_SITES[name]), DEFAULT_KNOWLEDGE)


def test_a_flask_module_with_dispatch_words_but_no_site_is_rejected() -> None:
    source = textwrap.dedent(NO_SITE)
    assert might_have_findings(source, DEFAULT_KNOWLEDGE)  # the words are there...
    assert not has_candidates(ast.parse(source), DEFAULT_KNOWLEDGE)  # ...the sites are not


@pytest.mark.parametrize("name", sorted(SITES))
def test_each_kind_of_site_is_a_candidate(name: str) -> None:
    assert has_candidates(ast.parse(SITES[name]), DEFAULT_KNOWLEDGE)


def test_a_call_of_a_project_function_with_a_callable_is_a_candidate() -> None:
    tree = ast.parse(
        "from .utils import run_async\n\ndef work():\n    pass\n\n"
        "def v(user):\n    run_async(work)\n    job = work\n    run_async(job)\n"
    )
    assert not has_candidates(tree, DEFAULT_KNOWLEDGE)
    assert has_candidates(tree, DEFAULT_KNOWLEDGE, frozenset({"run_async"}))
    # A project function called with a plain value (``db.session.add(user)``) is not.
    plain = ast.parse("from .ext import db\n\ndef v(user):\n    db.session.add(user)\n")
    assert not has_candidates(plain, DEFAULT_KNOWLEDGE, frozenset({"db"}))


WRAPPER_PROJECT = {
    "shop/__init__.py": "from .utils import run_async\nfrom .starred import *\n",
    "shop/utils.py": (
        "import threading\n\n\ndef run_async(fn):\n"
        "    threading.Thread(target=fn).start()\n"
    ),
    "shop/starred.py": "from .deep import *\n",
    "shop/deep.py": (
        "from concurrent.futures import ThreadPoolExecutor\n\npool = ThreadPoolExecutor()\n"
        "\n\ndef later(fn):\n    return pool.submit(fn)\n"
    ),
    "shop/extensions.py": (
        "import functools\n\n\ndef memoize(fn):\n    return functools.lru_cache(fn)\n"
        "\n\ndef register(fn):\n    return fn\n"
    ),
    "shop/relay.py": "from .extensions import memoize\nfrom .utils import run_async as go\n",
    "shop/mixed.py": (
        "from concurrent.futures import ThreadPoolExecutor\n\npool = ThreadPoolExecutor()\n"
        "run_later = pool.submit\n\n\n"
        "def defer(fn):\n    run_later(fn)\n\n\n"
        "def later(fn):\n    return defer(fn)\n\n\n"
        "def timed(fn):\n    return fn\n\n\n"
        "soon = later\n\n\n"
        "class Job:\n    def __init__(self, fn):\n        pool.submit(fn)\n"
    ),
}

CALLER = (
    "from flask import request\n{imports}\n\n\ndef work():\n    return request.args\n"
    "\n\n{use}\n"
)


@pytest.mark.parametrize(
    "imports, use, wrapper",
    [
        ("from .utils import run_async", "run_async(work)", True),
        ("from . import run_async", "run_async(work)", True),  # re-exported by __init__
        ("from shop import later", "later(work)", True),  # through two star imports
        ("from .relay import go", "go(work)", True),  # re-exported, renamed
        ("import shop.utils", "shop.utils.run_async(work)", True),
        ("from . import utils", "utils.run_async(work)", True),
        ("from .missing import run", "run(work)", False),  # nothing to follow
        ("from .extensions import memoize", "memoize(work)", False),
        ("from .relay import memoize", "memoize(work)", False),
        ("from .extensions import register", "@register\ndef view():\n    pass", False),
        ("from .utils import run_async", "@run_async\ndef view():\n    pass", True),
        # Per function of a module that has a dispatch site: only those that dispatch.
        ("from .mixed import defer", "defer(work)", True),  # through a bound method
        ("from .mixed import later", "later(work)", True),  # a wrapper of a wrapper
        ("from .mixed import soon", "soon(work)", True),  # an alias of one
        ("from .mixed import timed", "timed(work)", False),
        ("from .mixed import Job", "Job(work)", False),  # a class is never a wrapper
    ],
)
def test_only_project_names_that_can_dispatch_are_wrappers(
    tmp_path: Path, imports: str, use: str, wrapper: bool
) -> None:
    """A call of a project function with a function argument (or a project decorator)
    costs a LibCST parse only if that function's module can start a thread: followed
    through re-exports, renames and star imports to the defining module."""
    for relative, text in WRAPPER_PROJECT.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    views = tmp_path / "shop" / "views.py"
    source = CALLER.format(imports=imports, use=use)
    views.write_text(source, encoding="utf-8")
    settings = Settings(project_root=str(tmp_path))
    where = place(str(views), DEFAULT_KNOWLEDGE, settings)
    assert passes_ast_gate(ast.parse(source), DEFAULT_KNOWLEDGE, where) is wrapper
    if "@" not in use:
        # ...and the engine, without the gate, agrees (the gate is only a shortcut: a
        # name it rejects must be one the analysis would not follow either).
        module = libcst.parse_module(source)
        found = analyse(module, DEFAULT_KNOWLEDGE, where, source).findings()
        assert [f.code for f in found] == (["FCX100"] if wrapper else [])


def test_a_broken_project_module_is_not_a_wrapper(tmp_path: Path) -> None:
    """A module with a syntax error cannot be followed by the engine either."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("", encoding="utf-8")
    broken = WRAPPER_PROJECT["shop/utils.py"].replace("def run_async(fn):", "def run_async(fn:")
    (tmp_path / "shop" / "utils.py").write_text(broken, encoding="utf-8")
    views = tmp_path / "shop" / "views.py"
    source = CALLER.format(imports="from .utils import run_async", use="run_async(work)")
    views.write_text(source, encoding="utf-8")
    where = place(str(views), DEFAULT_KNOWLEDGE, Settings(project_root=str(tmp_path)))
    assert not passes_ast_gate(ast.parse(source), DEFAULT_KNOWLEDGE, where)
    (tmp_path / "shop" / "utils.py").write_text(WRAPPER_PROJECT["shop/utils.py"], "utf-8")
    assert passes_ast_gate(ast.parse(source), DEFAULT_KNOWLEDGE, where)  # fixed: re-read


@pytest.mark.parametrize("modules, may_be", [(6, False), (12, True)])
def test_star_imports_importing_each_other_are_walked_once(
    tmp_path: Path, modules: int, may_be: bool
) -> None:
    """Modules that all star-import each other: looking up a name none defines visits
    each (module, name) once (it used to branch once per star import at every hop).
    Within the hop limit the answer is "no"; a chain longer than it is assumed "yes"."""
    names = [f"m{i}" for i in range(modules)]
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("", "utf-8")
    for name in names:
        text = "".join(f"from .{other} import *\n" for other in names if other != name)
        (tmp_path / "shop" / f"{name}.py").write_text(text, "utf-8")
    views = tmp_path / "shop" / "views.py"
    source = CALLER.format(imports="from .m0 import nowhere", use="nowhere(work)")
    views.write_text(source, encoding="utf-8")
    where = place(str(views), DEFAULT_KNOWLEDGE, Settings(project_root=str(tmp_path)))
    started = time.monotonic()
    assert passes_ast_gate(ast.parse(source), DEFAULT_KNOWLEDGE, where) is may_be
    assert time.monotonic() - started < 30


STREAMS = (
    "from flask import request\n\n\ndef rows():\n    yield request.args.get('q', '')\n"
    "\n\ndef listing():\n    return [request.args.get('q', '')]\n"
)
VIEW = (
    "from flask import Flask\n{imports}\n\napp = Flask(__name__)\n\n\n"
    "@app.route('/export')\ndef export():\n{body}\n"
)


@pytest.mark.parametrize(
    "imports, body, streams",
    [
        ("from .streams import rows", "    return rows(), 200", True),
        ("from .streams import rows", "    body = rows()\n    return body", True),
        ("from . import streams", "    return streams.rows()", True),
        ("from .streams import listing", "    return listing(), 200", False),
        ("", "    return ', '.join(str(i) for i in range(3))", False),
        ("", "    return (str(i) for i in range(3))", True),
    ],
)
def test_a_view_returning_a_project_generator_is_a_candidate(
    tmp_path: Path, imports: str, body: str, streams: bool
) -> None:
    """FCX300 through another module: the gate follows the returned call's name to
    its defining module; the engine (without the gate) agrees."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("", "utf-8")
    (tmp_path / "shop" / "streams.py").write_text(STREAMS, "utf-8")
    views = tmp_path / "shop" / "views.py"
    source = VIEW.format(imports=imports, body=body)
    views.write_text(source, encoding="utf-8")
    where = place(str(views), DEFAULT_KNOWLEDGE, Settings(project_root=str(tmp_path)))
    assert passes_ast_gate(ast.parse(source), DEFAULT_KNOWLEDGE, where) is streams
    found = analyse(libcst.parse_module(source), DEFAULT_KNOWLEDGE, where, source).findings()
    generator_reads_request = streams and "range" not in body
    assert [f.code for f in found] == (["FCX300"] if generator_reads_request else [])


def test_a_gate_answer_never_belongs_to_another_knowledge() -> None:
    """Caches keyed by a ``Knowledge`` must not answer for a later one that gets the
    address of a dead one (``id()`` reuse made a configured dispatcher vanish in a full
    test run): a knowledge a gate cache was keyed by stays alive, so its id stays its own."""
    configured = Knowledge.build(settings_from(["--flask-ctx-dispatchers=*.run_later:1"]))
    source = ast.parse("later.run_later(0.1, send, 1)\n")
    assert has_candidates(source, configured)
    assert not has_candidates(source, Knowledge.build(settings_from([])))
    alive = weakref.ref(configured)
    del configured
    gc.collect()
    assert alive() is not None


WORKERS = """\
import threading
import threading as th
from threading import Thread

from flask import request

from .base import Job


{cls}
    def run(self):
        print(request.args.get("q"))
"""
STARTER = """\
from flask import Flask

from .workers import Worker

app = Flask(__name__)


@app.route("/go")
def go():
    Worker().start()
    return "started"
"""


@pytest.mark.parametrize(
    "cls, thread",
    [
        ("class Worker(threading.Thread):", True),
        ("class Worker(Thread):", True),
        ("class Worker(th.Thread):", True),
        ("class Base(Thread):\n    pass\n\n\nclass Worker(Base):", True),
        ("class Worker(Job):", False),  # a project base: not followed by the engine either
        ("class Worker(threading.Timer.__base__):", False),
        ("class Worker(object):", False),
        ("class Worker:", False),
    ],
)
def test_an_imported_class_is_parsed_only_if_its_bases_may_be_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cls: str, thread: bool
) -> None:
    """``Worker().start()`` of a class imported from the project: the ``ast`` export
    tables say whether it can derive from a thread-like base; the engine (without
    that shortcut) agrees, so a rejected class is one it would not report."""
    from flake8_flask_ctx.engine import resolution
    from flake8_flask_ctx.index.exports import may_be_class_of
    from flake8_flask_ctx.knowledge.dispatchers import THREAD_BASES

    (tmp_path / "shop").mkdir()
    for name, text in {
        "__init__.py": "", "base.py": "class Job:\n    pass\n",
        "workers.py": WORKERS.format(cls=cls), "views.py": STARTER,
    }.items():
        (tmp_path / "shop" / name).write_text(text, "utf-8")
    views = tmp_path / "shop" / "views.py"
    where = place(str(views), DEFAULT_KNOWLEDGE, Settings(project_root=str(tmp_path)))
    assert where.project is not None
    bases = frozenset(name for base in THREAD_BASES for name in base.qualified_names)
    assert may_be_class_of(where.project, "shop.workers.Worker", bases) is thread

    def codes() -> list:
        found = analyse(libcst.parse_module(STARTER), DEFAULT_KNOWLEDGE, where, STARTER)
        return [f.code for f in found.findings()]

    assert codes() == (["FCX100"] if thread else [])
    monkeypatch.setattr(resolution.Resolver, "foreign_may_be_class_of", lambda *_: True)
    assert codes() == (["FCX100"] if thread else [])


def test_a_project_that_imports_no_flask_passes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mypy's tree names ``flask_cors`` in a string and used to send 21 modules to LibCST:
    a project none of whose modules *imports* Flask (an extension, werkzeug, a configured
    package) cannot reach a context-local, so no file passes the text gate."""
    monkeypatch.chdir(tmp_path)  # the working directory is a project root too
    package = tmp_path / "tool"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "data.py").write_text('KNOWN = ["flask", "flask_cors", "request"]\n')
    worker = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from tool import data\n"
        "pool = ThreadPoolExecutor()\n"
        "def check(name):\n    return name in data.KNOWN  # flask request\n"
        "pool.submit(check, 'flask')\n"
    )
    (package / "runner.py").write_text(worker)
    project = project_of(str(package / "runner.py"), DEFAULT_KNOWLEDGE)
    assert project is not None
    assert not might_have_findings(worker, DEFAULT_KNOWLEDGE, project, "tool.runner")
    # One module that imports Flask is enough for the gate to look further.
    (package / "web.py").write_text("from flask import request\n")
    clear_cache()  # the project is read once per process
    project = project_of(str(package / "web.py"), DEFAULT_KNOWLEDGE)
    assert project is not None and project.imports_anywhere(DEFAULT_KNOWLEDGE.watched_packages)
