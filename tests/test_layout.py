"""The package's layout, as the design card names it: top-level ``flake8_flask_ctx/``
(not under ``src/``), folders that show the architecture, no import cycle between
modules, no module over 500 lines.

An import cycle is counted between *runtime* imports -- module-level and
function-level ones alike -- and excludes ``if TYPE_CHECKING:`` blocks, which never run
(the engine's types refer to each other: a unit holds a resolver that returns units).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "flake8_flask_ctx"
MAX_MODULE_LINES = 500
FOLDERS = ("frontends", "options", "knowledge", "index", "engine", "rules", "checker")

#: The layers, lowest first: a module imports only from its own layer or lower ones --
#: at module level, inside functions and under ``TYPE_CHECKING`` alike.
LAYERS = {
    "knowledge": 0, "options": 0, "index": 1, "engine": 2, "rules": 3, "checker": 4,
    "frontends": 5,
}
#: Upward imports that remain, each with the work that removes it (issue 26).
KNOWN_UPWARD = {
    # The project keeps the parsed units of other modules (a LibCST ModuleUnit each):
    # the unit cache is to move into the engine, the index keeping paths and summaries.
    ("flake8_flask_ctx.index.project", "flake8_flask_ctx.engine.units"),
}


def module_names(package: Path) -> Dict[str, Path]:
    """Dotted name -> file, for every module of ``package``."""
    found = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(
    name: str, path: Path, modules: Dict[str, Path], type_checking: bool = False
) -> Set[str]:
    """The package modules ``name`` imports when it runs (any depth; ``TYPE_CHECKING``
    blocks only with ``type_checking``)."""
    is_package = path.name == "__init__.py"
    found: Set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test) and not type_checking:
                for statement in child.orelse:
                    visit(statement)
                continue
            if isinstance(child, ast.ImportFrom):
                base = name.split(".") if is_package else name.split(".")[:-1]
                if child.level:
                    base = base[: len(base) - (child.level - 1)]
                    source = ".".join(base + ([child.module] if child.module else []))
                else:
                    source = child.module or ""
                for alias in child.names:
                    if f"{source}.{alias.name}" in modules:
                        found.add(f"{source}.{alias.name}")
                    elif source in modules:
                        found.add(source)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names if alias.name in modules)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(name)
    return found


def import_cycles(package: Path) -> List[List[str]]:
    """Every strongly connected group of more than one module (Tarjan), sorted."""
    modules = module_names(package)
    graph = {name: runtime_imports(name, path, modules) for name, path in modules.items()}
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    cycles: List[List[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(cycles)


def test_no_import_cycle_between_the_package_modules() -> None:
    assert import_cycles(PACKAGE) == []


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    """The check itself can fail: a cycle through a function-level import counts, one
    through ``if TYPE_CHECKING:`` does not."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from ..a import x\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nfrom . import a\n"
                                  "if TYPE_CHECKING:\n    from . import c_peer\n")
    (package / "c_peer.py").write_text("from .c import y\n")
    assert import_cycles(package) == [["pkg.a", "pkg.sub.b"]]


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_module_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} lines"


def test_top_level_layout_as_the_design_card_names_it() -> None:
    for entry in ("flake8_flask_ctx", "tests/fixtures", "setup.cfg", "pyproject.toml",
                  "README.md"):
        assert (ROOT / entry).exists(), entry
    assert not (ROOT / "src").exists()
    for folder in FOLDERS:
        init = PACKAGE / folder / "__init__.py"
        assert init.is_file(), folder
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), folder
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "version.py"]


def test_the_knowledge_and_options_depend_on_no_analysis() -> None:
    """Flask's facts and the user's settings are data: they import nothing of the gates,
    the engine, the rules or the front ends, and nothing but the front ends (and
    ``__main__``) imports a front end."""
    modules = module_names(PACKAGE)
    for name, path in modules.items():
        imported = runtime_imports(name, path, modules)
        layer = name.split(".")[1] if "." in name else ""
        if layer in ("knowledge", "options"):
            assert not {m for m in imported if m.split(".")[1:2] in (
                ["index"], ["engine"], ["rules"], ["frontends"])}, name
        if layer != "frontends" and name != "flake8_flask_ctx.__main__":
            assert not {m for m in imported if ".frontends" in m}, name


def test_layers_import_one_way() -> None:
    """knowledge/options < index < engine < rules < checker < front ends: nothing imports
    a layer above its own, not even inside a function or under ``TYPE_CHECKING``."""
    modules = module_names(PACKAGE)
    upward = set()
    for name, path in modules.items():
        layer = LAYERS.get(name.split(".")[1] if name.count(".") >= 1 else "", 99)
        for imported in runtime_imports(name, path, modules, type_checking=True):
            target = LAYERS.get(imported.split(".")[1] if imported.count(".") >= 1 else "", 99)
            if target > layer and target != 99:
                upward.add((name, imported))
    assert upward == KNOWN_UPWARD, sorted(upward - KNOWN_UPWARD)


def test_a_planted_upward_import_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "flake8_flask_ctx"
    for folder in ("engine", "rules"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "rules" / "codes.py").write_text("X = 1\n")
    (package / "engine" / "walk.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..rules import codes\n"
    )
    modules = module_names(package)
    found = runtime_imports("flake8_flask_ctx.engine.walk", modules["flake8_flask_ctx.engine.walk"],
                            modules, type_checking=True)
    assert found == {"flake8_flask_ctx.rules.codes"}
