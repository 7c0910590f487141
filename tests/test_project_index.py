"""The project index: contexts a project pushes anywhere in its application (SPEC 3).

The fixture projects prove the common shapes end to end (and under Flask); these tests
pin every installation form the index knows, what it must not take for one, and which
modules count as the application.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from flake8_flask_ctx.checker.check import check_source
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE
from flake8_flask_ctx.knowledge.contexts import Tier
from flake8_flask_ctx.index.project import clear_cache, project_for
from flake8_flask_ctx.index.project_index import ProjectFacts
from flake8_flask_ctx.options.settings import Settings

APP, REQUEST = Tier.APP, Tier.REQUEST


def write(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def facts_of(root: Path, files: Dict[str, str], module: str = "app.tasks") -> ProjectFacts:
    write(root, files)
    clear_cache()
    return project_for((root.resolve(),), DEFAULT_KNOWLEDGE).facts(module)


def codes(root: Path, files: Dict[str, str], checked: str) -> List[Tuple[int, str]]:
    """Findings of one module of a project written to ``root``, checked from there."""
    write(root, files)
    clear_cache()
    path = root / checked
    settings = Settings.from_values(project_root=str(root))
    found = check_source(path.read_text(encoding="utf-8"), filename=str(path), settings=settings)
    return [(f.line, f.code) for f in found]


PACKAGE = {"app/__init__.py": ""}

CONTEXT_TASK = '''
from celery import Celery

def make_celery(app):
    celery = Celery(app.name)
    TaskBase = celery.Task

    class ContextTask(TaskBase):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return TaskBase.__call__(self, *args, **kwargs)

    {install}
    return celery
'''


@pytest.mark.parametrize("install", [
    "celery.Task = ContextTask",
    "celery.conf.update(task_cls=ContextTask)",
    "Celery(app.name, task_cls='app.factory:ContextTask')",
])
def test_task_base_installed_anywhere(tmp_path: Path, install: str) -> None:
    facts = facts_of(tmp_path, {
        **PACKAGE, "app/factory.py": CONTEXT_TASK.format(install=install),
        "app/tasks.py": "x = 1\n",
    })
    pushed = facts.celery_context()
    assert pushed is not None and pushed.name == "ContextTask"
    assert pushed.tiers(frozenset()) == {APP}
    assert pushed.where == "app/factory.py:8"


def test_a_task_class_never_installed_is_no_task_base(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        **PACKAGE, "app/factory.py": CONTEXT_TASK.format(install="pass"),
    })
    assert facts.celery_context() is None
    # ... but a task that names it as its base gets it.
    named = facts.celery_context(base="ContextTask")
    assert named is not None and named.always == {APP}


def test_a_base_that_pushes_nothing_gives_nothing(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {**PACKAGE, "app/factory.py": '''
from celery import Celery, Task
import time

class TimedTask(Task):
    def __call__(self, *args, **kwargs):
        started = time.monotonic()
        try:
            return self.run(*args, **kwargs)
        finally:
            print(time.monotonic() - started)

celery = Celery("app", task_cls=TimedTask)
'''})
    assert facts.celery_context() is None
    assert facts.celery_apps == {"app.factory.celery"}


SUBCLASS = '''
from contextlib import ExitStack
from celery import Celery

class ShopCelery(Celery):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.flask_app = None

        class ShopTask(self.Task):
            def __call__(s, *args, **kwargs):
                stack = ExitStack()
                stack.enter_context(self.flask_app.app_context())
                if {condition}:
                    stack.enter_context(self.flask_app.test_request_context())
                with stack:
                    return super().__call__(*args, **kwargs)

        self.Task = ShopTask

celery = ShopCelery("shop")
'''


@pytest.mark.parametrize("condition", [
    "getattr(s, 'request_context', False)", "s.request_context",
])
def test_request_context_for_tasks_declaring_the_option(tmp_path: Path, condition: str) -> None:
    facts = facts_of(tmp_path, {**PACKAGE, "app/celery.py": SUBCLASS.format(condition=condition)})
    pushed = facts.celery_context()
    assert pushed is not None and pushed.option == "request_context"
    assert pushed.tiers(frozenset()) == {APP}
    assert pushed.tiers(frozenset({"request_context"})) == {APP, REQUEST}
    assert facts.celery_apps == {"app.celery.celery"}  # a project subclass of Celery


def test_a_request_context_under_an_unknown_condition_counts_for_no_task(tmp_path: Path) -> None:
    text = SUBCLASS.format(condition="os.environ.get('X')")
    pushed = facts_of(tmp_path, {**PACKAGE, "app/celery.py": text}).celery_context()
    assert pushed is not None and pushed.option is None
    assert pushed.tiers(frozenset({"request_context"})) == {APP}


@pytest.mark.parametrize("text", [
    "SERVER_NAME = 'shop.example.com'\n",
    "class Config:\n    SERVER_NAME = os.environ.get('SERVER_NAME', 'localhost')\n",
    "def create(app):\n    app.config['SERVER_NAME'] = base.netloc\n",
    "def create(app):\n    app.config.update(SERVER_NAME='x.test')\n",
    "def create(app):\n    app.config.update({'SERVER_NAME': 'x.test'})\n",
    "def create(app):\n    app.config.setdefault('SERVER_NAME', 'x.test')\n",
])
def test_server_name_forms(tmp_path: Path, text: str) -> None:
    facts = facts_of(tmp_path, {**PACKAGE, "app/config.py": text})
    assert facts.server_name is not None and facts.server_name.startswith("app/config.py:")


@pytest.mark.parametrize("text", [
    "SERVER_NAME = None\n",
    "class Config:\n    SERVER_NAME = ''\n",
    "def create(app):\n    name = app.config['SERVER_NAME']\n",
    "def create(app):\n    app.config.update(SERVER_NAME=None)\n",
])
def test_server_name_not_set(tmp_path: Path, text: str) -> None:
    assert facts_of(tmp_path, {**PACKAGE, "app/config.py": text}).server_name is None


def test_the_application_is_its_package_and_the_modules_beside_it(tmp_path: Path) -> None:
    """``tests/conftest.py`` setting ``SERVER_NAME`` is not the application's config;
    ``config.py`` beside the package is."""
    files = {
        **PACKAGE, "app/tasks.py": "x = 1\n",
        "tests/__init__.py": "", "tests/conftest.py": "SERVER_NAME = 'localhost'\n",
    }
    assert facts_of(tmp_path, files).server_name is None
    files["config.py"] = "SERVER_NAME = 'shop.example.com'\n"
    assert facts_of(tmp_path, files).server_name == "config.py:1"


QUEUES = {
    "dramatiq": '''
import dramatiq

class AppContextMiddleware(dramatiq.Middleware):
    def __init__(self, app):
        self.app = app

    def before_process_message(self, broker, message):
        self.app.app_context().push()

def setup(app, broker):
    broker.add_middleware(AppContextMiddleware(app))
''',
    "rq": '''
from rq.job import Job

class FlaskJob(Job):
    def perform(self):
        with self.app.app_context():
            return super().perform()

def queue(redis):
    return Queue("default", connection=redis, job_class=FlaskJob)
''',
    "huey": '''
from huey import RedisHuey
huey = RedisHuey()

@huey.pre_execute()
def push_context(task):
    app.app_context().push()
''',
}


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_queue_hooks_that_push_a_context(tmp_path: Path, queue: str) -> None:
    facts = facts_of(tmp_path, {**PACKAGE, "app/setup.py": QUEUES[queue]})
    assert set(facts.queue_contexts) == {queue}
    assert facts.queue_contexts[queue].always == {APP}


def test_a_middleware_never_installed_is_nothing(tmp_path: Path) -> None:
    text = QUEUES["dramatiq"].replace("broker.add_middleware(AppContextMiddleware(app))", "pass")
    assert facts_of(tmp_path, {**PACKAGE, "app/setup.py": text}).queue_contexts == {}


CLI = '''
from flask.cli import AppGroup, with_appcontext
from rq import SimpleWorker
import click

manager = AppGroup("rq")

{decorator}
def worker():
    {body}

def start_worker():
    SimpleWorker(["default"]).work(burst=True)
'''


@pytest.mark.parametrize("decorator, body, started", [
    ("@manager.command()", "SimpleWorker(['default']).work()", True),
    ("@manager.command()", "start_worker()", True),  # through a function of the module
    ("@app.cli.command('worker')", "SimpleWorker(['default']).work()", True),
    ("@click.command()\n@with_appcontext", "start_worker()", True),
    ("@click.command()", "start_worker()", False),  # a plain click command: no context
    ("@manager.command()", "print('no worker here')", False),
])
def test_workers_started_from_cli_commands(
    tmp_path: Path, decorator: str, body: str, started: bool
) -> None:
    text = CLI.format(decorator=decorator, body=body)
    facts = facts_of(tmp_path, {**PACKAGE, "app/cli.py": text})
    assert ("rq" in facts.queue_contexts) is started


def test_index_survives_broken_and_odd_modules(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        **PACKAGE,
        "app/broken.py": "def f(:\n    app_context\n",
        "app/deep.py": "SERVER_NAME = " + "(" * 500 + "1" + ")" * 500 + "\n",
        "app/bytes.py": "",
    })
    (tmp_path / "app" / "bytes.py").write_bytes(b"\xff\xfeapp_context\x00")
    assert facts.celery_context() is None
    assert facts.complete


# -- end to end: the engine asks the index -------------------------------------------------

TASKS = '''
from flask import current_app, request
from app.extensions import celery


@celery.task
def reindex():
    return current_app.config["INDEX"]  # app tier


@celery.periodic_task(run_every=60)
def audit():
    return request.path  # request tier
'''


def test_engine_applies_a_base_installed_in_an_unimported_module(tmp_path: Path) -> None:
    files = {
        **PACKAGE, "app/extensions.py": "from celery import Celery\ncelery = Celery()\n",
        "app/tasks.py": TASKS,
    }
    assert codes(tmp_path, files, "app/tasks.py") == [(8, "FCX110"), (13, "FCX100")]
    files["app/factory.py"] = CONTEXT_TASK.format(install="celery.Task = ContextTask")
    assert codes(tmp_path, files, "app/tasks.py") == [(13, "FCX100")]


@pytest.mark.parametrize("spelling", ["from app.extensions", "from .extensions"])
def test_message_names_celery_for_a_periodic_task_of_a_project_app(
    tmp_path: Path, spelling: str
) -> None:
    files = {
        **PACKAGE, "app/extensions.py": "from celery import Celery\ncelery = Celery()\n",
        "app/tasks.py": TASKS.replace("from app.extensions", spelling),
    }
    write(tmp_path, files)
    clear_cache()
    path = tmp_path / "app/tasks.py"
    settings = Settings.from_values(project_root=str(tmp_path))
    found = check_source(path.read_text(encoding="utf-8"), filename=str(path), settings=settings)
    messages = {f.code: f.message for f in found}
    assert "runs as a Celery periodic task in a worker" in messages["FCX100"]
    assert "huey" not in messages["FCX100"]


# -- the constant-argument guard (SPEC section 3) --------------------------------------------

@pytest.mark.parametrize("call, falsy", [
    ("notify(1, False)", {"send", "tag"}),
    ("notify(1, send=None)", {"send", "tag"}),
    ("notify(1, True, tag='x')", set()),
    ("notify(1, 0, tag='')", {"send", "tag"}),
    ("notify(1, [], tag=())", {"send", "tag"}),
    ("notify(1)", {"tag"}),  # send defaults to True, tag to None
    ("notify(*args)", set()),  # spread: nothing known, not even the defaults
    ("notify(1, flag)", {"tag"}),
    ("obj.method(False)", {"send"}),  # bound: ``self`` is not the first argument
])
def test_falsy_parameters(call: str, falsy: set[str]) -> None:
    import libcst as cst

    from flake8_flask_ctx.engine.falsy import falsy_parameters

    module = cst.parse_module(
        "def notify(user, send=True, tag=None): pass\n"
        "class K:\n    def method(self, send=True, tag='t'): pass\n"
    )
    function = module.body[0]
    method = module.body[1].body.body[0]  # type: ignore[attr-defined]
    parsed = cst.parse_expression(call)
    assert isinstance(parsed, cst.Call)
    callee = method if call.startswith("obj.") else function
    bound = isinstance(parsed.func, cst.Attribute)
    assert falsy_parameters(parsed, callee, bound) == falsy


@pytest.mark.parametrize("where", [
    "app/tests/test_views.py", "app/test_config.py", "app/configs/testing.py",
    "app/conftest.py", "app/views_test.py",
])
def test_test_code_is_not_the_application(tmp_path: Path, where: str) -> None:
    """pgadmin4 sets ``SERVER_NAME`` in a test module inside its package."""
    files = {**PACKAGE, "app/tests/__init__.py": "", where: "SERVER_NAME = 'localhost'\n"}
    assert facts_of(tmp_path, files).server_name is None
