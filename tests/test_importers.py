"""The importer search of the changed-files path (``index/importers.py``) and the
modules loaded with one (``Project.imported_with``, for Flask's signal receivers): read
from text, every spelling of an import counts, and a module is found through others."""

from __future__ import annotations

import textwrap
from pathlib import Path

from flake8_flask_ctx.index import project as project_module
from flake8_flask_ctx.index.importers import importers_of
from flake8_flask_ctx.index.imports import imported_modules
from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE


def test_every_spelling_of_an_import_is_read(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(textwrap.dedent("""\
        import a.b as c, d
        from .x import (y,
           z as w)
        from ..q import r, \\
            s
        def factory():
            import shop.jobs; import other
            from . import util
        """))
    assert imported_modules(path, "pkg.sub.m") == {
        "a", "a.b", "d", "other", "shop", "shop.jobs",
        "pkg.sub", "pkg.sub.util", "pkg.sub.x", "pkg.sub.x.y", "pkg.sub.x.z",
        "pkg.q", "pkg.q.r", "pkg.q.s",
    }


def test_importers_are_found_through_other_modules(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    shop.mkdir()
    files = {
        "__init__.py": "",
        "util.py": "def helper():\n    return 1\n",
        "tasks.py": "from .util import helper\n",
        "views.py": "from shop import tasks\n",
        "admin.py": "def setup():\n    from .views import index\n",
        "other.py": "import json\n",
    }
    for name, text in files.items():
        (shop / name).write_text(text)
    project_module.clear_cache()
    found = importers_of([str(shop / "util.py")], DEFAULT_KNOWLEDGE, str(tmp_path))
    assert sorted(Path(p).name for p in found) == ["admin.py", "tasks.py", "views.py"]


def test_modules_loaded_with_one_are_its_packages_and_imports(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    (shop / "jobs").mkdir(parents=True)
    files = {
        "__init__.py": "def create_app():\n    from .audit import init_audit\n",
        "audit.py": "from . import util\n",
        "util.py": "",
        "jobs/__init__.py": "",
        "jobs/mail.py": "import json\n",
        "debugging.py": "from .jobs import mail\n",
    }
    for name, text in files.items():
        (shop / name).write_text(text)
    project_module.clear_cache()
    project = project_module.project_of(str(shop / "jobs" / "mail.py"), DEFAULT_KNOWLEDGE)
    assert project.imported_with("shop.jobs.mail") == {
        "shop", "shop.audit", "shop.util", "shop.jobs", "shop.jobs.mail",
    }
