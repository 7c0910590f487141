"""Post-import hooks: instrument a library the moment a fixture imports it, never before.

Why: gevent, Celery, RQ, dramatiq, huey, APScheduler, asgiref... cost 50-450 ms each to
import, and most fixtures use none of them.  Importing them up front in every fixture's
interpreter would multiply the suite's wall time; patching them only when the fixture (or a
library it uses) imports them keeps every other fixture as fast as before.  A hook runs
right after the module's own code ran, before the importer sees it, so ``from gevent
import spawn`` in the fixture already gets the instrumented function.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from types import ModuleType
from typing import Callable, Dict, List, Optional, Sequence

Hook = Callable[[ModuleType], None]


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds watched modules through the other finders and wraps their loader's exec_module."""

    def __init__(self) -> None:
        self.hooks: Dict[str, List[Hook]] = {}
        self._lock = threading.RLock()

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]],
        target: Optional[ModuleType] = None,
    ) -> Optional[importlib.machinery.ModuleSpec]:
        with self._lock:
            hooks = self.hooks.pop(fullname, None)
        if not hooks:
            return None
        spec: Optional[importlib.machinery.ModuleSpec] = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        loader = spec.loader if spec is not None else None
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            with self._lock:  # not importable the usual way: nothing to instrument
                self.hooks.setdefault(fullname, []).extend(hooks)
            return spec
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            for hook in hooks:
                hook(module)

        # Per-instance: each module found on disk has a loader object of its own.
        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_FINDER = _PostImportFinder()


def when_imported(name: str, hook: Hook) -> None:
    """Call ``hook(module)`` once ``name`` is imported (at once if it already is)."""
    module = sys.modules.get(name)
    if module is not None:
        hook(module)
        return
    with _FINDER._lock:
        _FINDER.hooks.setdefault(name, []).append(hook)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
