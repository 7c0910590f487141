"""The cheap look at the project, before and around LibCST: the text prefilter and the
``ast`` gates (``prefilter.py``, ``candidates.py``, ``module_sites.py``), where the
project's files are and how names map to modules (``files.py``, ``imports.py``,
``project.py``), what other modules export (``exports.py``) and which of their
statements a lookup needs (``outline.py``), and the project index of contexts the
project pushes elsewhere (``project_index.py``, ``index_readers.py``).  Nothing here
loads LibCST."""
