"""The package version, in a module of its own so that any module can name it without
importing the package (whose ``__init__`` loads the analysis)."""

__version__ = "0.3.0.dev0"
