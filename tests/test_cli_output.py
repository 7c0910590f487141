"""What the standalone command prints (issue 17): ``--explain``, ``--help``, messages
that stay one readable line, the chain in JSON and SARIF."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema

from flake8_flask_ctx.rules.codes import CODES
from test_cli import SARIF_SCHEMA, cli


def test_explain_prints_the_installed_rule_documentation(tmp_path: Path) -> None:
    listed = cli(["--explain"], cwd=tmp_path)
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(CODES)
    for code in CODES:
        shown = cli(["--explain", code.lower()], cwd=tmp_path)
        assert shown.returncode == 0
        assert shown.stdout.startswith(f"## {code} — {CODES[code].slug}")
        assert "**Use instead.**" in shown.stdout
    unknown = cli(["--explain", "FCX7"], cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown code" in unknown.stderr


def test_help_names_every_option_and_the_exit_statuses(tmp_path: Path) -> None:
    shown = cli(["--help"], cwd=tmp_path).stdout
    assert "exit status:" in shown and "  2  the result is incomplete" in shown
    options = [line.split()[0].rstrip(",") for line in shown.splitlines()
               if line.startswith("  --") or line.startswith("  -j")]
    assert len(options) >= 20
    blocks = shown.split("\n  -")
    for block in blocks[1:]:
        words = block.split()
        assert len(words) > 2, f"option without help text: -{block.strip()}"


def _long_chain(tmp_path: Path, hops: int) -> Path:
    helpers = "\n\n".join(
        f"def step_{n}():\n    return step_{n + 1}()" for n in range(hops)
    )
    source = textwrap.dedent("""\
        import threading

        from flask import Flask, request

        app = Flask(__name__)


        def worker():
            return step_0()


        {helpers}


        def step_{last}():
            return request.args


        @app.route("/")
        def index():
            threading.Thread(target=worker).start()
            return "ok"
    """).replace("{helpers}", helpers).replace("{last}", str(hops))
    path = tmp_path / "chain.py"
    path.write_text(source)
    return path


def test_a_long_chain_is_one_short_line_and_whole_in_json_and_sarif(tmp_path: Path) -> None:
    _long_chain(tmp_path, 1000)
    headline = cli(["chain.py"], cwd=tmp_path).stdout
    assert headline == (
        "chain.py:3019:29: FCX100 request.args outside the request (line 3014): worker() "
        "runs in a new threading.Thread\n"
    ), headline
    text = cli(["--show-chain", "chain.py"], cwd=tmp_path).stdout
    assert text.count("\n") == 1 and len(text) < 1000, len(text)
    assert "via step_0() at line 9 -> step_1() at line " in text
    assert "-> ... 996 more hops ... -> " in text
    assert "step_1000() at line " in text
    rows = json.loads(cli(["--format=json", "chain.py"], cwd=tmp_path).stdout)
    (row,) = rows
    assert len(row["chain"]) == 1002  # 1,001 calls and the read
    assert row["chain"][0] == {"path": "chain.py", "line": 9, "column": 12,
                               "message": "calls step_0()"}
    assert row["chain"][-1]["message"] == "reads request.args"
    short = cli(["--format=json", "chain.py"], cwd=tmp_path)
    assert short.returncode == 1


def test_sarif_carries_help_and_the_chain_as_a_code_flow(tmp_path: Path) -> None:
    _long_chain(tmp_path, 2)
    outside = tmp_path / "sub"
    outside.mkdir()
    for given in ("chain.py", str(tmp_path / "chain.py"), "./chain.py"):
        log = json.loads(cli(["--format=sarif", given], cwd=tmp_path).stdout)
        jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
        run = log["runs"][0]
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
        rule = run["tool"]["driver"]["rules"][0]
        assert rule["help"]["text"].startswith("## FCX100 — ")
        assert "**Example.**" in rule["help"]["markdown"]
        assert "helpUri" not in rule  # no public page to point at (issue 29, point 7)
        (result,) = run["results"]
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "chain.py", "uriBaseId": "%SRCROOT%"}, given
        related = result["relatedLocations"]
        assert [r["message"]["text"] for r in related] == [
            "calls step_0()", "calls step_1()", "calls step_2()", "reads request.args"
        ]
        flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
        assert len(flow) == 5 and flow[0]["location"]["message"]["text"] == "handed over here"


TWO_FINDINGS = """\
    import threading

    from flask import Flask, current_app, request

    app = Flask(__name__)


    def audit():
        return request.remote_addr


    def settings():
        return current_app.config


    @app.post("/orders")
    def place():
        threading.Thread(target=audit).start()
        threading.Thread(target=settings).start()
        return {}
"""


def test_flake8s_output_options(tmp_path: Path) -> None:
    """``--show-source``, ``--statistics``, ``--count``, ``-q``/``-qq`` and
    ``--output-file`` as flake8 has them (issue 29, point 8)."""
    (tmp_path / "views.py").write_text(textwrap.dedent(TWO_FINDINGS), encoding="utf-8")
    plain = cli(["views.py"], cwd=tmp_path)
    assert plain.returncode == 1 and len(plain.stdout.splitlines()) == 2
    source = cli(["--show-source", "views.py"], cwd=tmp_path).stdout.splitlines()
    assert source[1:3] == [
        "    threading.Thread(target=audit).start()",
        "                            ^",
    ], source
    statistics = cli(["--statistics", "views.py"], cwd=tmp_path).stdout.splitlines()
    assert [line.split()[:2] for line in statistics[2:]] == [["1", "FCX100"], ["1", "FCX110"]]
    counted = cli(["--count", "views.py"], cwd=tmp_path)
    assert counted.stdout == plain.stdout + "2\n" and counted.stderr == ""
    assert cli(["-q", "views.py"], cwd=tmp_path).stdout == "views.py\n"
    silent = cli(["-qq", "views.py"], cwd=tmp_path)
    assert silent.stdout == "" and silent.returncode == 1
    written = cli(["--output-file", "report.txt", "views.py"], cwd=tmp_path)
    assert written.stdout == "" and written.returncode == 1
    assert (tmp_path / "report.txt").read_text(encoding="utf-8") == plain.stdout
