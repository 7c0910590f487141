"""flake8-flask-ctx: find Flask context-locals used where no context exists.

The flake8 entry point is ``flake8_flask_ctx.frontends.plugin:Plugin``; ``check_source``
is the same analysis for other front ends.  The package's folders follow the
architecture: ``frontends`` (flake8 plugin, command line, ``--fix``, output formats),
``options`` (settings and their configuration files), ``knowledge`` (what Flask and its
extensions are, as data), ``index`` (the cheap text/``ast`` gates and the project
index), ``engine`` (the LibCST analysis: names, resolution, reach) and ``rules`` (the
finders behind each code and their messages).

Importing the package imports nothing else: ``python -m flake8_flask_ctx`` runs with the
working directory first on ``sys.path``, and ``__main__`` must take it off before any
module a project could shadow (``threading.py``, a ``concurrent/`` package) is imported.
``check_source`` is loaded on first use.
"""

from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .checker.check import check_source

__all__ = ["__version__", "check_source"]


def __getattr__(name: str) -> Any:
    if name == "check_source":
        from .checker.check import check_source

        return check_source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
