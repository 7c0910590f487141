"""The user's settings (``settings.py``: one frozen value the engine reads) and where
they come from outside flake8 (``config.py``: ``[tool.flake8-flask-ctx]`` and
``setup.cfg``/``tox.ini``/``.flake8``)."""
