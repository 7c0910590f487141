"""The engine's own walk and scopes agree with LibCST's, which they replace for speed.

``names.child_nodes`` reads children from the node fields (LibCST's ``children`` and
visitors rebuild every node they pass) and ``scopes.ScopeTracker`` tracks Python's scopes
in the same walk (LibCST's ``ScopeProvider`` cost four times the parse).  Both are
checked against LibCST itself on every fixture and on a sample of the standard library,
and the scope rules on small programs written to hit each one.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Dict, List, Set

import libcst as cst
import pytest
from libcst.metadata import Assignment, MetadataWrapper, ScopeProvider

from flake8_flask_ctx.knowledge import DEFAULT_KNOWLEDGE
from flake8_flask_ctx.engine.names import ModuleIndex, child_nodes
from flake8_flask_ctx.engine.node_names import _TRIVIA

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLE = sorted(FIXTURES.rglob("*.py")) + sorted(STDLIB.glob("*.py"))[::6]


def _modules(paths: List[Path]) -> List[cst.Module]:
    """Every module of ``paths`` parsed with LibCST.  One LibCST cannot parse (syntax newer
    than the installed LibCST, on a newer Python's standard library) is named, and more
    than one in twenty fails the test: a comparison that quietly drops modules checks
    less than it says."""
    found = []
    failed: List[str] = []
    for path in paths:
        try:
            found.append(cst.parse_module(path.read_bytes()))
        except cst.ParserSyntaxError as error:
            failed.append(f"{path.name}: {str(error).splitlines()[0]}")
    assert len(failed) * 20 <= len(paths), failed
    return found


def test_child_nodes_are_libcst_children_in_source_order() -> None:
    checked = 0
    for module in _modules(SAMPLE):
        stack: List[cst.CSTNode] = [module]
        while stack:
            node = stack.pop()
            theirs = [c for c in node.children if type(c) not in _TRIVIA]
            mine = child_nodes(node)
            assert [id(c) for c in mine] == [id(c) for c in theirs], type(node).__name__
            checked += 1
            stack.extend(theirs)
    assert checked > 100_000


def _compare(module: cst.Module) -> List[str]:
    """Where the engine's bindings or import names differ from LibCST's."""
    scopes = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    index = ModuleIndex(module, DEFAULT_KNOWLEDGE)
    problems: List[str] = []
    for name in getattr(index, "_scopes").scope_of:
        scope = scopes.get(name)
        if scope is None:
            continue
        theirs = {a.node for a in scope[name.value] if isinstance(a, Assignment)}
        qualified = {q.name for q in scope.get_qualified_names_for(name)}
        _COMPARED[0] += 1
        if set(index.binding_nodes(name)) | _rewrapped(index, name) != theirs:
            problems.append(f"bindings of {name.value}")
        imported = {q for q in qualified if "<" not in q and not q.startswith("builtins.")}
        mine = {q for q in index.qualified_names_any(name) if "<" not in q}
        if imported - mine:
            problems.append(f"qualified names of {name.value}: {imported} vs {mine}")
    return problems


_COMPARED = [0]
"""Names compared so far in this process (a floor on it keeps the comparison real)."""


def _rewrapped(index: ModuleIndex, name: cst.Name) -> Set[cst.CSTNode]:
    """Bindings ``binding_nodes`` drops on purpose (before an ``x = wrap(x)``)."""
    scope = getattr(index, "_scopes").scope_of.get(name)
    everything = {b.node for b in scope.lookup(name.value)} if scope is not None else set()
    return everything - set(index.binding_nodes(name))


def test_scopes_agree_with_libcst_on_every_fixture() -> None:
    for path in sorted(FIXTURES.rglob("*.py")):
        assert _compare(cst.parse_module(path.read_bytes())) == [], path.name


@pytest.mark.parametrize("part", range(3))
def test_scopes_agree_with_libcst_on_the_standard_library(part: int) -> None:
    """A sample of 34 modules (every fifth of the standard library), in three parts so
    parallel workers share them; LibCST itself is not consistent on a handful of shapes
    (a class-body name it spells without the class, an import in ``except`` rebinding a
    class), hence the small allowance (every third module gave at most 4 per part)."""
    modules = _modules(sorted(STDLIB.glob("*.py"))[::5][part::3])
    before = _COMPARED[0]
    problems = [p for module in modules for p in _compare(module)]
    assert len(problems) <= 4, problems[:20]
    assert len(modules) >= 10 and _COMPARED[0] - before >= 2_000, (
        f"only {len(modules)} modules and {_COMPARED[0] - before} names compared"
    )


PROGRAMS: Dict[str, str] = {
    "global": "x = 1\ndef f():\n    global x\n    x = 2\n    return x\n",
    "nonlocal":
        "def f():\n    x = 1\n    def g():\n        nonlocal x\n        x = 2\n    return x\n",
    "class body is not an enclosing scope":
        "x = 1\nclass K:\n    x = 2\n    def m(self):\n        return x\n",
    "comprehension": "y = [x for x in range(3)]\nz = x\n",
    "lambda default in the outer scope": "d = 1\nf = lambda a=d: a + d\n",
    "a lambda whose body is a bare name ends its scope there":
        "x = 1\nf = lambda: x\ny = 2\nclass K:\n    z = y\n",
    "except as": "try:\n    pass\nexcept ValueError as e:\n    print(e)\n",
    "with as": "with open('f') as fh:\n    fh.read()\n",
    "imports": "import a.b.c\nimport d.e as de\nfrom .g import h\nfrom .. import i\n"
               "from j.k import l as m\nprint(a.b.c, de, h, i, m)\n",
    "decorator and default outside":
        "def deco(fn): return fn\nv = 1\n@deco\ndef f(p=v): return p\n",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_scope_rules(name: str) -> None:
    assert _compare(cst.parse_module(PROGRAMS[name])) == []


def test_walrus_in_a_comprehension_binds_in_the_function() -> None:
    """PEP 572: ``:=`` in a comprehension binds in the enclosing function (LibCST's
    scopes get this one wrong: ``return w`` sees no binding there)."""
    module = cst.parse_module("def f(v):\n    [(w := i) for i in v]\n    return w\n")
    index = ModuleIndex(module, DEFAULT_KNOWLEDGE)
    used = [n for n in getattr(index, "_scopes").accesses["w"]]
    assert len(used) == 1 and len(index.binding_nodes(used[0])) == 1


def test_import_spellings() -> None:
    index = ModuleIndex(cst.parse_module(PROGRAMS["imports"]), DEFAULT_KNOWLEDGE)
    call = index.calls[-1]
    names = [index.qualified_names_any(arg.value) for arg in call.args]
    assert names == [{"a.b.c"}, {"d.e"}, {".g.h"}, {"..i"}, {"j.k.l"}]


def test_references_of_a_variable() -> None:
    module = cst.parse_module("t = make()\nt.start()\ndef f():\n    t.join()\nt2 = t\n")
    index = ModuleIndex(module, DEFAULT_KNOWLEDGE)
    target = index.assigns[0].targets[0].target
    assert isinstance(target, cst.Name)
    uses = index.uses_of_target(target)
    assert uses is not None and len(uses) == 3
    rebound = cst.parse_module("t = make()\nt = other()\nt.start()\n")
    again = ModuleIndex(rebound, DEFAULT_KNOWLEDGE)
    first = again.assigns[0].targets[0].target
    assert isinstance(first, cst.Name) and again.uses_of_target(first) is None
