"""``python -m flake8_flask_ctx``: the standalone command."""

import sys

from .frontends.cli import main

sys.exit(main())
