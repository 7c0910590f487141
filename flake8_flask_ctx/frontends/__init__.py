"""The ways users run the analysis: the flake8 plugin (``plugin.py``), the standalone
command (``cli.py``) with its output formats (``formats.py``) and ``noqa`` handling
(``noqa.py``), and ``--fix`` (``fix.py``).  Nothing below this package imports it."""
