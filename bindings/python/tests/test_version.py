"""The package's version is the crate's: one version for every artifact (scripts/version.py)."""

from __future__ import annotations

import re
from pathlib import Path

import mizu_sync


def test_version_is_the_crates() -> None:
    cargo = (Path(__file__).resolve().parents[3] / "Cargo.toml").read_text(encoding="utf-8")
    package = cargo.split("[package]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^version = "([^"]+)"', package, re.MULTILINE)
    assert match is not None
    assert mizu_sync.__version__ == match.group(1)
    assert "__version__" in mizu_sync.__all__
