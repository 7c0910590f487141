"""The published artifacts (issue 17): an sdist whose test suite can run, a wheel with
only the package, both with the license and the metadata an index shows."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` of this checkout, with the build backend of the test
    environment (the test extra installs the ``setuptools`` that pyproject.toml
    requires): an isolated build would install it again for every run."""
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not a source checkout")
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
         "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _only(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_wheel_has_only_the_package_and_its_metadata(artifacts: Path) -> None:
    wheel = _only(artifacts, "*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(info).decode())
        entry_points = archive.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"flake8_flask_ctx", wheel.name.split("-")[0] + "-"
                    + wheel.name.split("-")[1] + ".dist-info"}, tops
    assert "flake8_flask_ctx/py.typed" in names
    assert not any("tests/" in n or n.endswith(".pyc") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Name"] == "flake8-flask-ctx"
    classifiers = metadata.get_all("Classifier") or []
    for wanted in ("Programming Language :: Python :: 3.9", "Typing :: Typed",
                   "Framework :: Flake8", "Development Status :: 4 - Beta"):
        assert wanted in classifiers
    # No public page exists yet: a URL in the metadata would point nowhere (issue 29).
    assert not metadata.get_all("Project-URL"), metadata.get_all("Project-URL")
    assert metadata["Author"] or metadata["Author-email"]
    requires = metadata.get_all("Requires-Dist") or []
    runtime = [r for r in requires if "extra ==" not in r]
    assert sorted(r.split(">")[0].split(";")[0].strip() for r in runtime) == [
        "flake8", "libcst", "tomli"
    ]
    assert any("tomli" in r and "python_version < \"3.11\"" in r for r in runtime)
    assert "FCX = flake8_flask_ctx.frontends.plugin:Plugin" in entry_points
    assert "flake8-flask-ctx = flake8_flask_ctx.frontends.cli:main" in entry_points
    assert "flake8-flask-ctx-flake8 = flake8_flask_ctx.frontends.hook:main" in entry_points


def test_sdist_carries_what_its_test_suite_needs(artifacts: Path) -> None:
    sdist = _only(artifacts, "*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in (
        "LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "setup.cfg",
        ".pre-commit-hooks.yaml", "tests/conftest.py", "tests/expectations.py",
        "tests/runtime/harness.py", "tests/data/sarif-2.1.0-rtm.5.json",
        "tests/FIXTURES.md", "docs/rules.md", "examples/shop/app.py",
        "benchmarks/run.py", ".ci/run",
    ):
        assert needed in names, needed
    fixtures = {n for n in names if n.startswith("tests/fixtures/") and n.endswith(".py")}
    on_disk = {
        str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "fixtures").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert fixtures == on_disk
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
