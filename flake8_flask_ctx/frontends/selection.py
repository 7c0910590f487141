"""Which codes the standalone command reports for a file: ``--select``,
``--extend-select``, ``--ignore``, ``--extend-ignore`` and ``--per-file-ignores``,
decided exactly as flake8 decides them.

flake8 is a dependency of this package either way, so its own decision engine and
path matching are used rather than imitated: a configuration that selects a code in
one front end selects it in the other.  What that means (flake8 7.x): a code matched
by both a select and an ignore prefix goes to the *longer* prefix (``--select FCX
--ignore FCX1`` reports FCX200, not FCX100; an explicit ``--select FCX100`` beats an
implicit ignore); per-file ignores add to ``--extend-ignore`` for the files whose base
name or absolute path match their pattern, the longest matching pattern winning.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from flake8 import utils as flake8_utils  # type: ignore[import-untyped]
from flake8.style_guide import Decision, DecisionEngine  # type: ignore[import-untyped]

_LOG = logging.getLogger(__name__)

#: The codes this package reports when nothing is selected: the plugin's entry point
#: prefix (flake8 puts it in ``extended_default_select``).
DEFAULT_SELECT = ("FCX",)


def normalize_path(path: str, parent: str = ".") -> str:
    """flake8's ``normalize_path``: a pattern with a separator becomes absolute, from
    ``parent`` (the current directory, or a configuration file's directory)."""
    normalized: str = flake8_utils.normalize_path(path, parent)
    return normalized


def matches_filename(path: str, patterns: Sequence[str]) -> bool:
    """flake8's test: the base name or the absolute path matches one of ``patterns``."""
    return bool(flake8_utils.matches_filename(
        path, patterns=list(patterns), log_message="%(path)s %(whether)smatches", logger=_LOG
    ))


@dataclass(frozen=True)
class Selection:
    """The select/ignore options, and the per-file ignores (pattern, codes)."""

    select: Optional[Tuple[str, ...]] = None
    extend_select: Tuple[str, ...] = ()
    ignore: Optional[Tuple[str, ...]] = None
    extend_ignore: Tuple[str, ...] = ()
    per_file: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()

    @classmethod
    def build(
        cls,
        select: Optional[Sequence[str]] = None,
        extend_select: Optional[Sequence[str]] = None,
        ignore: Optional[Sequence[str]] = None,
        extend_ignore: Optional[Sequence[str]] = None,
        per_file_ignores: "str | Sequence[str] | None" = None,
        parent: str = ".",
    ) -> "Selection":
        """``per_file_ignores`` in flake8's syntax (a string, or a list of its lines),
        its patterns relative to ``parent`` (a configuration file's directory); a
        malformed one raises ValueError with flake8's explanation."""
        pairs: List[Tuple[str, Tuple[str, ...]]] = []
        if per_file_ignores:
            try:
                parsed = flake8_utils.parse_files_to_codes_mapping(per_file_ignores)
            except Exception as error:  # flake8 raises its own ValueError subclass
                raise ValueError(str(error)) from None
            pairs = [(normalize_path(name, parent), tuple(codes)) for name, codes in parsed]
        return cls(
            select=None if select is None else tuple(select),
            extend_select=tuple(extend_select or ()),
            ignore=None if ignore is None else tuple(ignore),
            extend_ignore=tuple(extend_ignore or ()),
            per_file=tuple(pairs),
        )

    def reports(self, code: str, filename: str) -> bool:
        """Whether ``code`` found in ``filename`` is reported."""
        return _engine(self, self._extra_ignores(filename)).decision_for(code) is (
            Decision.Selected
        )

    def _extra_ignores(self, filename: str) -> Tuple[str, ...]:
        if not self.per_file or filename in ("-", "stdin"):
            return ()
        matching = [(p, c) for p, c in self.per_file if matches_filename(filename, [p])]
        if not matching:
            return ()
        return max(matching, key=lambda pair: len(pair[0]))[1]


_ENGINES: Dict[Tuple[Selection, Tuple[str, ...]], DecisionEngine] = {}


def _engine(selection: Selection, extra_ignores: Tuple[str, ...]) -> DecisionEngine:
    key = (selection, extra_ignores)
    engine = _ENGINES.get(key)
    if engine is None:
        options = argparse.Namespace(
            select=None if selection.select is None else list(selection.select),
            extend_select=list(selection.extend_select),
            ignore=None if selection.ignore is None else list(selection.ignore),
            extend_ignore=[*selection.extend_ignore, *extra_ignores],
            extended_default_select=list(DEFAULT_SELECT),
            extended_default_ignore=[],
        )
        engine = _ENGINES[key] = DecisionEngine(options)
    return engine
