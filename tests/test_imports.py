"""Every module the project and its benchmarks import can be imported in this venv.

The venv is the one `make install` builds from requirements.txt with the machine's own pip, so
this fails when a dependency arrives only through another package's extra that an older pip
does not resolve (trafilatura → justext → ``lxml[html_clean]`` was one), or when a module
imports a package requirements.txt does not name.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "spiders", "pipelines", "settings")
SCRIPTS = ("bench", "tests", "tools")


def project_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        path = ROOT / package
        names += [m.name for m in pkgutil.walk_packages([str(path)], prefix=f"{package}.")]
    return sorted(names)


def imported_names(path: Path) -> set[str]:
    """Absolute module names a source file imports (``import a.b``, ``from a.b import c``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def third_party_imports() -> list[str]:
    local = set(PACKAGES) | set(SCRIPTS) | {"__future__"}
    sources = [p for d in PACKAGES + SCRIPTS for p in (ROOT / d).rglob("*.py")]
    names = set()
    for path in sources:
        names |= {n for n in imported_names(path) if n.split(".")[0] not in local}
    # The standard library is there; what is left must come from requirements.txt.
    return sorted(n for n in names if n.split(".")[0] not in sys.stdlib_module_names)


def test_the_scan_finds_what_the_project_uses():
    found = {n.split(".")[0] for n in third_party_imports()}
    # The benchmark's extractors, the store's engine, Scrapy itself.
    assert {"scrapy", "sqlalchemy", "trafilatura", "gne", "apprise", "aiosmtpd"} <= found, found
    assert "crawler.store" in project_modules()


@pytest.mark.parametrize("name", project_modules())
def test_project_module_imports(name):
    importlib.import_module(name)


@pytest.mark.parametrize("name", third_party_imports())
def test_third_party_module_imports(name):
    # As the project meets them: after its own modules (crawler/runtime/splash.py makes scrapy_splash
    # importable under Scrapy 2.19 before anything imports it).
    importlib.import_module("crawler.runtime.splash")
    importlib.import_module(name)


def test_the_benchmark_starts():
    import subprocess

    r = subprocess.run([sys.executable, "bench/run.py", "--help"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "usage" in r.stdout.lower()
