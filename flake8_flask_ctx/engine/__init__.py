"""The LibCST analysis of a file that passed the gates: names and scopes (``names.py``,
``scopes.py``), what an expression resolves to (``resolution.py`` with its parts
``targets.py``, ``receivers.py``, ``extension_locals.py``), what a dispatched callable
reaches (``reach.py``, ``body_scanner.py``, ``chains.py``), other modules as units
(``units.py``), and the per-file driver (``check.py``, ``analysis.py``)."""
