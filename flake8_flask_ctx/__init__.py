"""flake8-flask-ctx: find Flask context-locals used where no context exists.

The flake8 entry point is ``flake8_flask_ctx.plugin:Plugin``; ``check_source`` is the
same analysis for other front ends.
"""

#: Defined before any import: ``codes`` names the version in FCX999 messages.
__version__ = "0.2.0"

from .check import check_source  # noqa: E402
__all__ = ["__version__", "check_source"]
