"""What certain library calls do with what they are given: call it on the spot, or read it.

The engine reports only what the code certainly does (SPEC section 6).  A callable named
anywhere but in a call is *not* called -- it may be stored, registered, returned or handed
to a library that calls it later, in a context (``babel.localeselector(fn)``,
``app.errorhandler(404)(fn)``, ``signal.connect(fn)``).  Likewise a proxy that is only
named (bound, stored in a dict, returned) is not read.  The tables here are the few
library functions for which "handed over" is known to mean "called here" or "read here":
the unknown stays unknown, and silent.
"""

from __future__ import annotations

from typing import Mapping, Optional, Tuple

#: Where a function that calls its argument on the spot takes that callable:
#: (position, keyword); either may be None.
CallableArgument = Tuple[Optional[int], Optional[str]]

#: Library functions that call the callable they are given before they return (or, for
#: the lazy ones, as the result is consumed, which in practice is at once).
CALLS_ON_THE_SPOT: Mapping[str, CallableArgument] = {
    "builtins.map": (0, None),
    "builtins.filter": (0, None),
    "builtins.sorted": (None, "key"),
    "builtins.min": (None, "key"),
    "builtins.max": (None, "key"),
    "functools.reduce": (0, None),
    "itertools.starmap": (0, None),
    "itertools.takewhile": (0, None),
    "itertools.dropwhile": (0, None),
    "itertools.filterfalse": (0, None),
    "itertools.groupby": (None, "key"),
    "itertools.accumulate": (1, "func"),
    "heapq.nsmallest": (None, "key"),
    "heapq.nlargest": (None, "key"),
    "heapq.merge": (None, "key"),
}

#: Methods (on any receiver) that call a keyword argument on the spot: ``rows.sort(key=f)``.
METHODS_CALLING_KEYWORD: Mapping[str, str] = {"sort": "key"}

#: Library functions that read (dereference) a proxy passed to them: formatting it,
#: measuring it, iterating it, asking for an attribute.  Not ``repr``, ``dir`` or
#: ``isinstance``: werkzeug's ``LocalProxy`` answers those without a context.  Passing a
#: proxy to anything else -- an unknown library -- is not, by itself, a read.
READS_ITS_ARGUMENTS = frozenset(
    {
        "builtins.str", "builtins.format", "builtins.print",
        "builtins.len", "builtins.iter", "builtins.next", "builtins.list",
        "builtins.tuple", "builtins.dict", "builtins.set", "builtins.frozenset",
        "builtins.sorted", "builtins.enumerate", "builtins.zip", "builtins.sum",
        "builtins.any", "builtins.all", "builtins.min", "builtins.max",
        "builtins.int", "builtins.float", "builtins.getattr", "builtins.setattr",
        "builtins.hasattr", "builtins.delattr", "builtins.vars",
        "builtins.hash", "json.dumps", "json.dump",
    }
)

#: Methods (of a string, on any receiver) that read the arguments they format or join:
#: ``"{0.path}".format(request)``, ``", ".join(session)``.
METHODS_READING_ARGUMENTS = frozenset({"format", "format_map", "join"})

#: Builtin names (unbound in the module) are spelled ``builtins.<name>`` in the tables.
BUILTINS_PREFIX = "builtins."


#: Test doubles: ``mock.patch("pkg.mod.fn", ...)``, ``mocker.patch(...)``,
#: ``patch.object(mod, "fn")``, ``monkeypatch.setattr("pkg.mod.fn", ...)`` or
#: ``monkeypatch.setattr(mod, "fn", ...)``.  A callee replaced in a test module is not
#: followed from it (what runs is the double).  Matched by the called method's name; the
#: receivers are the usual spellings of the fixtures and modules that provide them.
PATCH_METHODS = frozenset({"patch", "object", "setattr"})
PATCH_RECEIVERS = frozenset({"mock", "mocker", "patch", "monkeypatch", "unittest.mock"})


#: Calls whose result stands for the callables or proxies given to them (last names):
#: ``partial(work, x)``, ``LocalProxy(get_user)``, ``staticmethod(helper)``, a container
#: of handlers.  The semantic gate follows their arguments; any other call's result is
#: taken as data (``data = request.get_json()`` carries no context-local) unless the
#: callee is a class of the project (an instance: its methods come along).
REFERENCE_FACTORIES = frozenset({
    "partial", "partialmethod", "LocalProxy", "staticmethod", "classmethod", "property",
    "cached_property", "copy_current_request_context", "stream_with_context",
    "dict", "list", "tuple", "set", "frozenset", "OrderedDict", "defaultdict",
    "ChainMap", "MappingProxyType", "iter", "reversed", "next",
})

#: Methods whose result is one of the receiver's items (``HANDLERS.get(kind)``,
#: ``request.files.get("f")``, ``request._get_current_object()``): the result stands
#: for the receiver.
REFERENCE_METHODS = frozenset({
    "get", "getlist", "values", "listvalues", "items", "pop", "popitem", "setdefault",
    "copy", "__getitem__",
})
