"""Everything the linter knows about Flask, as data.

The engine never spells a Flask name: it asks this package (``contexts.py``: the
context-locals, guards, extension objects and lifetimes; ``dispatchers.py``: the calls
that run code elsewhere; ``queues.py``: what the project index reads) and the
``Knowledge`` below, which adds the user's options to those defaults.  Keeping
the facts here means a new dispatcher, context-local or safe wrapper is one table row,
reviewed against Flask's behaviour, instead of a branch hidden in the traversal.

All names are *qualified* names, i.e. what an identifier resolves to through the
module's imports (``from flask import request as rq`` makes ``rq`` resolve to
``flask.request``).  Flask re-exports most helpers from submodules, so every public
spelling that resolves to the same object is listed and mapped to one canonical name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Iterable, Mapping, Optional, Tuple

from ..options.settings import Settings
from .contexts import (
    CONTEXT_LOCAL_PACKAGES, CONTEXT_LOCALS, GUARD_CALLS, NAME_ALIASES, PROXY_OBJECTS,
    SAFE_WRAPPERS, Tier, canonical_name,
)
from .later import LATER_DISPATCHERS
from .dispatchers import (
    CALL_DISPATCHERS, DISPATCH_WORDS, METHOD_DISPATCHERS, THREAD_BASES, CallDispatcher,
    Forwards, MethodDispatcher,
)


def _rest_after(position: Optional[int]) -> Forwards:
    return Forwards(rest_from=None if position is None else position + 1, other_keywords=True)


def _top_packages(names: Iterable[str]) -> Tuple[str, ...]:
    return tuple(sorted({name.split(".")[0] for name in names}))


#: Pool methods whose names are everyday words (``map``): a module containing them is
#: not, for that alone, worth parsing in search of a wrapper (``map_async``... still are).
_GENERIC_METHOD_WORDS = frozenset({"map", "apply", "imap", "starmap"})


@dataclass(frozen=True)
class Knowledge:
    """Everything the engine consults: the defaults above plus the user's options."""

    context_locals: Mapping[str, Tier]
    proxy_objects: frozenset[str]
    safe_wrappers: frozenset[str]
    call_dispatchers: Tuple[CallDispatcher, ...]
    method_dispatchers: Tuple[MethodDispatcher, ...]
    watched_packages: Tuple[str, ...]
    dispatch_packages: Tuple[str, ...]
    prefilter_words: Tuple[str, ...]
    #: Words a module that defines a dispatching wrapper must contain (the names of
    #: the dispatch calls and methods): other modules are not parsed to look for one.
    wrapper_words: Tuple[str, ...] = ()

    def tier_of(self, qualified_name: str) -> Optional[Tier]:
        """The tier a qualified name needs, or ``None`` if it is not a context-local."""
        return self.context_locals.get(canonical_name(qualified_name))

    def star_exports(self, package: str) -> frozenset[str]:
        """Names of ours that ``from <package> import *`` binds (Flask has no
        ``__all__``, so every public name; Flask-Login's ``__all__`` has its three)."""
        known = [*self.context_locals, *NAME_ALIASES, *GUARD_CALLS, *self.safe_wrappers]
        prefix = package + "."
        return frozenset(
            name[len(prefix):]
            for name in known
            if name.startswith(prefix) and "." not in name[len(prefix):]
        )

    def with_server_name(self) -> "Knowledge":
        """The same knowledge for an app that sets ``SERVER_NAME``: ``url_for`` then
        needs only an application context (SPEC section 1).  Memoised, so the units
        cached per knowledge are shared by every file of the project."""
        if self.context_locals.get("flask.url_for") is Tier.APP:
            return self
        cached = _SERVER_NAME_VARIANTS.get(id(self))
        if cached is None or cached[0] is not self:
            locals_ = dict(self.context_locals)
            locals_["flask.url_for"] = Tier.APP
            cached = _SERVER_NAME_VARIANTS[id(self)] = (self, replace(self, context_locals=locals_))
        return cached[1]

    @classmethod
    def build(cls, settings: Settings) -> "Knowledge":
        locals_ = dict(CONTEXT_LOCALS)
        if settings.server_name:
            locals_["flask.url_for"] = Tier.APP  # with SERVER_NAME an app context suffices
        locals_.update({name: Tier.REQUEST for name in settings.request_locals})
        locals_.update({name: Tier.APP for name in settings.app_locals})
        user_proxies = frozenset(settings.request_locals) | frozenset(settings.app_locals)
        calls = CALL_DISPATCHERS + LATER_DISPATCHERS + tuple(
            CallDispatcher(frozenset({d.name}), d.position, d.keyword,
                           f"through {d.name} (configured dispatcher)",
                           forwards=_rest_after(d.position))
            for d in settings.dispatchers if not d.is_method
        )
        methods = METHOD_DISPATCHERS + tuple(
            MethodDispatcher(d.name[2:], frozenset(), d.position, d.keyword, True,
                             f"through .{d.name[2:]}() (configured dispatcher)",
                             forwards=_rest_after(d.position), any_receiver=True)
            for d in settings.dispatchers if d.is_method
        )
        user_names = [*settings.request_locals, *settings.app_locals]
        dispatch_names = [n for d in calls for n in d.qualified_names]
        spelled = [n for d in calls if not d.by_module for n in d.qualified_names]
        last_words = [
            name.rsplit(".", 1)[-1]
            for name in [*spelled, *(m.method for m in methods), *settings.safe_wrappers]
        ] + [n.split(".", 1)[0] for d in calls if d.by_module for n in d.qualified_names]
        return cls(
            context_locals=locals_,
            proxy_objects=PROXY_OBJECTS | user_proxies,
            safe_wrappers=SAFE_WRAPPERS | frozenset(settings.safe_wrappers),
            call_dispatchers=calls,
            method_dispatchers=methods,
            watched_packages=tuple(
                sorted(set(CONTEXT_LOCAL_PACKAGES) | set(_top_packages(user_names)))
            ),
            dispatch_packages=_top_packages(dispatch_names),
            prefilter_words=tuple(sorted(set(DISPATCH_WORDS) | set(last_words))),
            wrapper_words=tuple(sorted(
                (
                    {n.rsplit(".", 1)[-1] for n in dispatch_names}
                    | {m.method for m in methods}
                    | {b.rsplit(".", 1)[-1] for t in THREAD_BASES for b in t.qualified_names}
                )
                - _GENERIC_METHOD_WORDS
            )),
        )


_SERVER_NAME_VARIANTS: Dict[int, Tuple[Knowledge, Knowledge]] = {}
#: Every ``Knowledge`` a cache was keyed by, kept alive: ``id()`` is unique only among
#: live objects, and a cache keyed by the id of a dead one answered for the next
#: ``Knowledge`` that happened to get the same address (other options, other answers).
_PINNED: Dict[int, Knowledge] = {}


def knowledge_key(knowledge: Knowledge) -> int:
    """A cache key for ``knowledge`` (it is a dataclass of dicts: not hashable) that no
    other ``Knowledge`` can share, because the object is pinned."""
    key = id(knowledge)
    _PINNED[key] = knowledge
    return key


DEFAULT_KNOWLEDGE = Knowledge.build(Settings())
