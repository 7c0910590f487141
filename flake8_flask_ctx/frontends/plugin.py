"""The flake8 adapter: thin on purpose.

flake8 chooses a plugin's inputs by its ``__init__`` parameter names.  ``tree`` (the
``ast`` flake8 already parsed) serves the cheap gate that decides whether the module is
worth a LibCST parse; the analysis parses ``lines`` with LibCST (the file is never
opened: ``filename`` is only a label with stdin).
Nothing may escape ``run()``: an exception there aborts the user's whole flake8
run, so any internal failure becomes one FCX999 at line 1.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Any, ClassVar, Iterator, Sequence, Tuple, Type

from ..version import __version__
from ..checker.check import analysed_modules, check_source
from ..rules.codes import failure_message
from . import heap
from ..knowledge import DEFAULT_KNOWLEDGE, Knowledge
from ..options.discovery import check_flake8_files
from ..options.settings import Settings, SettingsError

Report = Tuple[int, int, str, Type[Any]]

#: The limits and what they mean (the standalone command says the same).
LIMIT_OPTIONS = {
    "max-nodes": "a file with more syntax nodes is not analysed: one FCX999 names it "
    "(default 150000; 0: no limit)",
}

#: (option, help) for the comma-separated dotted-name options.
LIST_OPTIONS = (
    (
        "--flask-ctx-dispatchers",
        "extra dispatch callables, NAME[:ARG] (ARG: position or keyword of the callable; "
        "NAME '*.method' matches a method on any receiver)",
    ),
    (
        "--flask-ctx-safe-wrappers",
        "decorators/wrappers that carry the request context like "
        "copy_current_request_context",
    ),
    ("--flask-ctx-request-locals", "your own request-tier LocalProxy objects"),
    ("--flask-ctx-app-locals", "your own app-tier LocalProxy objects"),
)


def misspelt_codes(options: argparse.Namespace) -> Tuple[str, ...]:
    """Entries of flake8's ``select``/``extend-select`` that look like this plugin's
    codes misspelt: ``fcx100`` (flake8's codes are case-sensitive) or ``FXC``."""
    given = [*(getattr(options, "select", None) or ()),
             *(getattr(options, "extend_select", None) or ())]
    found = []
    for code in given:
        head = code[:3]
        if head == "FCX":
            continue
        if head.upper() == "FCX" or sorted(head.upper()) == ["C", "F", "X"]:
            found.append(code)
    return tuple(found)


class Plugin:
    name = "flake8-flask-ctx"
    version = __version__
    knowledge: ClassVar[Knowledge] = DEFAULT_KNOWLEDGE
    settings: ClassVar[Settings] = Settings()
    #: Print the whole message (chain and advice), not its headline.
    show_chain: ClassVar[bool] = False

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str = "stdin") -> None:
        self._tree = tree
        self._lines = lines
        self._filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        # flake8 reads its configuration after this and ignores misspelt keys, and a
        # bad boolean ends in its traceback: our keys are checked here first.
        problem = check_flake8_files(sys.argv[1:], Path.cwd())
        if problem is not None:
            print(f"flake8-flask-ctx: {problem}", file=sys.stderr)
            raise SystemExit(2)
        for option, help_text in LIST_OPTIONS:
            parser.add_option(
                option,
                default="",
                parse_from_config=True,
                comma_separated_list=True,
                help=help_text + " (comma-separated dotted names)",
            )
        parser.add_option(
            "--flask-ctx-server-name",
            action="store_true",
            default=False,
            parse_from_config=True,
            help="the app sets SERVER_NAME: url_for needs only an app context",
        )
        parser.add_option(
            "--flask-ctx-project-root",
            default="",
            parse_from_config=True,
            help="directory the project's absolute imports are resolved against "
            "(default: above the checked file's top package, and the working directory)",
        )
        parser.add_option(
            "--flask-ctx-show-chain",
            action="store_true",
            default=False,
            parse_from_config=True,
            help="print each finding's whole chain and the advice, not only its headline",
        )
        parser.add_option(
            "--flask-ctx-single-module",
            action="store_true",
            default=False,
            parse_from_config=True,
            help="do not follow callables into other modules of the project",
        )
        for option, meaning in LIMIT_OPTIONS.items():
            parser.add_option(
                f"--flask-ctx-{option}", default="", parse_from_config=True, help=meaning
            )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        try:
            settings = Settings.from_values(
                dispatchers=options.flask_ctx_dispatchers or (),
                safe_wrappers=options.flask_ctx_safe_wrappers or (),
                request_locals=options.flask_ctx_request_locals or (),
                app_locals=options.flask_ctx_app_locals or (),
                server_name=options.flask_ctx_server_name,
                project_root=options.flask_ctx_project_root or None,
                cross_module=not options.flask_ctx_single_module,
                max_nodes=options.flask_ctx_max_nodes,
            )
        except SettingsError as error:
            # A wrong option must fail loudly, not silently check less.
            # Exit status 2, as for flake8's own option errors: 1 would read as findings.
            print(f"flake8-flask-ctx: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        cls.knowledge = Knowledge.build(settings)
        cls.settings = settings
        for code in misspelt_codes(options):
            # flake8 takes any select entry and silently reports nothing for it
            print(
                f"flake8-flask-ctx: warning: {code!r} in select looks like a misspelt FCX "
                "code (codes are upper case: FCX, FCX100...); no FCX code is selected by it",
                file=sys.stderr,
            )
        cls.show_chain = bool(getattr(options, "flask_ctx_show_chain", False))

    def run(self) -> Iterator[Report]:
        try:
            tree = self._tree if isinstance(self._tree, ast.AST) else None
            analysed = analysed_modules()
            findings = check_source(
                "".join(self._lines), self.knowledge, self._filename, self.settings, tree
            )
            if analysed_modules() != analysed:
                heap.settle()
        except Exception as error:  # the FCX999 shield: never crash flake8
            yield (1, 0, failure_message(error), type(self))
            return
        for finding in findings:
            message = finding.message if self.show_chain else finding.headline
            yield (finding.line, finding.column, message, type(self))
