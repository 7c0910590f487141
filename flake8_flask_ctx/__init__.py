"""flake8-flask-ctx: find Flask context-locals used where no context exists.

The flake8 entry point is ``flake8_flask_ctx.frontends.plugin:Plugin``; ``check_source``
is the same analysis for other front ends.  The package's folders follow the
architecture: ``frontends`` (flake8 plugin, command line, ``--fix``, output formats),
``options`` (settings and their configuration files), ``knowledge`` (what Flask and its
extensions are, as data), ``index`` (the cheap text/``ast`` gates and the project
index), ``engine`` (the LibCST analysis: names, resolution, reach) and ``rules`` (the
finders behind each code and their messages).
"""

from .checker.check import check_source
from .version import __version__

__all__ = ["__version__", "check_source"]
