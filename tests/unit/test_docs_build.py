"""The docs site builds with ``mkdocs build --strict``: every page, and the API reference rendered
from the docstrings of every public package, without a single warning.

Needs the ``docs`` extra (part of ``dev``). Without it the test is skipped, except in CI (``CI``
set), where a missing extra is an error.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS_MODULES = ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python")


def _missing_docs_modules() -> list[str]:
    missing = []
    for name in DOCS_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # the parent package of a dotted name is absent
            found = False
        if not found:
            missing.append(name)
    return missing


def test_docs_build_strict(tmp_path: Path) -> None:
    missing = _missing_docs_modules()
    if missing:
        reason = (
            f"the docs build needs the 'docs' extra ({', '.join(missing)} not importable): "
            'pip install -e ".[docs]"'
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set: {reason}")
        pytest.skip(reason)

    site = tmp_path / "site"
    result = subprocess.run(  # noqa: S603 - a fixed command line, no shell
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}{result.stdout}"

    # The reference is really rendered from the docstrings, not empty pages.
    app_page = (site / "reference" / "app" / "index.html").read_text(encoding="utf-8")
    assert "walker_channels.app.build_services" in app_page
    flask_page = (site / "reference" / "flask" / "index.html").read_text(encoding="utf-8")
    assert "walker_channels_flask.WalkerChannels" in flask_page
