"""Where the project builds instances of a class, on ``ast``: what class is the value
passed for one constructor parameter (``Worker(datastore)`` with ``datastore =
ChangeDetectionStore(...)``)?

``self.store = store`` in ``Worker.__init__`` and ``self.store.add_watch()`` in
``Worker.run``: which ``add_watch`` runs depends on what the constructions pass, and
they may be in any module of the project (changedetection.io builds its workers in the
package's ``__init__.py``).  Read from the modules that mention the class and name its
module, without a LibCST parse; only the class finally named is parsed, by the caller.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple

from .ast_walk import dotted_name
from .callers import module_tree
from .imports import resolve_relative
from .sources import source_text

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project


def constructed_classes(
    project: "Project",
    module: str,
    class_name: str,
    position: Optional[int],
    keyword: str,
) -> Tuple[str, ...]:
    """The absolute names of the classes whose instances the project passes to
    ``module.class_name(...)`` for the parameter at ``position`` (0-based, ``self``
    not counted) or named ``keyword``: a call of a class there, or a module-level name
    bound to one."""
    key = ("constructed", module, class_name, position, keyword)
    cached = project.memo.get(key)
    if isinstance(cached, tuple):
        return cached
    home = module.rsplit(".", 1)[-1]
    found: Set[str] = set()
    for path, dotted in project.modules_mentioning(class_name):
        if dotted is None:
            continue
        text = source_text(path)
        if text is None or (dotted != module and home not in text):
            continue
        tree = module_tree(path)
        if tree is None:
            continue
        names = _module_names(tree, dotted, path.name == "__init__.py")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _last(node.func) == class_name:
                value = _argument(node, position, keyword)
                absolute = _class_of(value, names) if value is not None else None
                if absolute is not None:
                    found.add(absolute)
    answer = tuple(sorted(found))
    project.memo[key] = answer
    return answer


def _module_names(tree: ast.Module, module: str, is_package: bool) -> Dict[str, str]:
    """Module-level names -> what they stand for: ``"class:<absolute>"`` for an
    imported or defined name, ``"call:<name>"`` for ``x = Name(...)``."""
    names: Dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = (
                resolve_relative(module, is_package, node.level, node.module or "")
                if node.level else node.module
            )
            for alias in node.names:
                if base and alias.name != "*":
                    names[alias.asname or alias.name] = f"class:{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = f"class:{alias.name}"
        elif isinstance(node, ast.ClassDef):
            names[node.name] = f"class:{module}.{node.name}"
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            dotted = dotted_name(node.value.func)
            for target in node.targets:
                if isinstance(target, ast.Name) and dotted:
                    names[target.id] = f"call:{dotted}"
    return names


def _class_of(value: ast.expr, names: Dict[str, str]) -> Optional[str]:
    """The absolute class name of ``Store(...)`` or of a module-level ``datastore``."""
    dotted: Optional[str] = None
    if isinstance(value, ast.Call):
        dotted = dotted_name(value.func)
    elif isinstance(value, ast.Name):
        bound = names.get(value.id, "")
        dotted = bound[5:] if bound.startswith("call:") else None
    if not dotted:
        return None
    first, _, rest = dotted.partition(".")
    bound = names.get(first, "")
    if not bound.startswith("class:"):
        return None
    return f"{bound[6:]}.{rest}" if rest else bound[6:]


def _argument(call: ast.Call, position: Optional[int], keyword: str) -> Optional[ast.expr]:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    positional: List[ast.expr] = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            return None
        positional.append(arg)
    if position is not None and position < len(positional):
        return positional[position]
    return None


def _last(node: ast.expr) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None
