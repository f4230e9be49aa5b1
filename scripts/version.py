#!/usr/bin/env python3
"""The one version of mizu-sync: the crate's `Cargo.toml` sets it; everything else reads it or is
stamped from it, and this script checks that they agree.

Read from Cargo.toml at build time: the wheel and sdist (maturin, `dynamic = ["version"]` in
bindings/python/pyproject.toml), `mizu_sync.__version__` (the installed distribution's metadata),
the pkg-config file and CMake package (bindings/c/Makefile, scripts/release.sh), the C header's
`MIZU_SYNC_VERSION*` macros (scripts/test-c.sh passes them to cbindgen). Stamped by `stamp`: the
Kotlin POMs (the binding's and the example's dependency) and the Swift package's `mizuSyncVersion`.

    python3 scripts/version.py              # prints the version
    python3 scripts/version.py stamp        # writes Cargo.toml's version into the stamped files
    python3 scripts/version.py check        # sources agree with Cargo.toml (exit 1 if not)
    python3 scripts/version.py check --dist dist --m2 ~/.m2/repository
                                            # ... and so do the built artifacts
After changing the version: `stamp`, then `bash scripts/test-c.sh --update` (the header).
"""

from __future__ import annotations

import argparse
import re
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POM = ROOT / "bindings" / "kotlin" / "pom.xml"
EXAMPLE_POM = ROOT / "examples" / "kotlin" / "pom.xml"
SWIFT = ROOT / "bindings" / "swift" / "Sources" / "MizuSync" / "Version.swift"
HEADER = ROOT / "bindings" / "c" / "include" / "mizu_sync.h"
PYPROJECT = ROOT / "bindings" / "python" / "pyproject.toml"
GROUP, ARTIFACT = "dev.mizu", "mizu-sync"

# The POM's own <version> (the first one after <artifactId>mizu-sync</artifactId>), and the
# example's dependency on it.
POM_VERSION = re.compile(r"(<artifactId>mizu-sync</artifactId>\s*<version>)([^<]*)(</version>)")
SWIFT_VERSION = re.compile(r'(public let mizuSyncVersion = ")([^"]*)(")')


def cargo_version(cargo_toml: Path = ROOT / "Cargo.toml") -> str:
    text = cargo_toml.read_text(encoding="utf-8")
    package = text.split("[package]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^version\s*=\s*"([^"]+)"', package, re.MULTILINE)
    if not match:
        sys.exit("version.py: no [package] version in Cargo.toml")
    return match.group(1)


def header_macros(text: str) -> dict[str, str]:
    return dict(re.findall(r"#define (MIZU_SYNC_VERSION\w*) \"?([^\"\s]*)\"?", text))


def expected_macros(version: str) -> dict[str, str]:
    core = version.split("-", 1)[0].split("+", 1)[0]
    major, minor, patch = core.split(".")
    return {
        "MIZU_SYNC_VERSION_MAJOR": major,
        "MIZU_SYNC_VERSION_MINOR": minor,
        "MIZU_SYNC_VERSION_PATCH": patch,
        "MIZU_SYNC_VERSION": version,
    }


def pep440(version: str) -> str:
    """The wheel's spelling of a Cargo version (maturin's: 1.0.0-alpha.1 -> 1.0.0a1)."""
    return (
        version.replace("-alpha.", "a")
        .replace("-beta.", "b")
        .replace("-rc.", "rc")
        .replace("-alpha", "a0")
        .replace("-beta", "b0")
        .replace("-rc", "rc0")
    )


def check_sources(version: str) -> list[str]:
    errors = []
    for pom in (POM, EXAMPLE_POM):
        found = POM_VERSION.search(pom.read_text(encoding="utf-8"))
        if not found or found.group(2) != version:
            errors.append(f"{pom.relative_to(ROOT)}: mizu-sync version {found and found.group(2)}")
    found = SWIFT_VERSION.search(SWIFT.read_text(encoding="utf-8"))
    if not found or found.group(2) != version:
        errors.append(f"{SWIFT.relative_to(ROOT)}: mizuSyncVersion {found and found.group(2)}")
    macros = header_macros(HEADER.read_text(encoding="utf-8"))
    if macros != expected_macros(version):
        errors.append(f"{HEADER.relative_to(ROOT)}: {macros} (run scripts/test-c.sh --update)")
    pyproject = PYPROJECT.read_text(encoding="utf-8")
    if not re.search(r'^dynamic = \["version"\]', pyproject, re.MULTILINE) or re.search(
        r"^version\s*=", pyproject, re.MULTILINE
    ):
        errors.append(
            "bindings/python/pyproject.toml: the version must be dynamic (from Cargo.toml)"
        )
    return errors


def one(paths: list[Path], what: str, errors: list[str]) -> Path | None:
    if len(paths) != 1:
        errors.append(f"{what}: expected exactly one, found {[p.name for p in paths]}")
        return None
    return paths[0]


def check_dist(version: str, dist: Path, m2: Path | None) -> list[str]:
    errors: list[str] = []
    py = pep440(version)
    wheel = one(sorted(dist.glob("mizu_sync-*.whl")), f"{dist}/mizu_sync-*.whl", errors)
    if wheel:
        with zipfile.ZipFile(wheel) as z:
            metas = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
            meta = z.read(metas[0]).decode() if metas else ""
        if not wheel.name.startswith(f"mizu_sync-{py}-") or f"\nVersion: {py}\n" not in meta:
            errors.append(f"wheel {wheel.name}: not version {py} (name or METADATA)")
    sdist = one(sorted(dist.glob("mizu_sync-*.tar.gz")), f"{dist}/mizu_sync-*.tar.gz", errors)
    if sdist and sdist.name != f"mizu_sync-{py}.tar.gz":
        errors.append(f"sdist {sdist.name}: not version {py}")
    ctar = one(sorted(dist.glob("mizu-sync-c-*.tar.gz")), f"{dist}/mizu-sync-c-*.tar.gz", errors)
    if ctar:
        stem = ctar.name[: -len(".tar.gz")]
        if not stem.startswith(f"mizu-sync-c-{version}-"):
            errors.append(f"C tarball {ctar.name}: not version {version}")
        with tarfile.open(ctar) as t:
            names = t.getnames()
            top = names[0].split("/")[0]

            def member(path: str) -> str:
                f = t.extractfile(f"{top}/{path}")
                if f is None:
                    errors.append(f"{ctar.name}: no {path}")
                    return ""
                return f.read().decode()

            if header_macros(member("include/mizu_sync.h")) != expected_macros(version):
                errors.append(f"{ctar.name}: header version macros differ")
            if f"\nVersion: {version}\n" not in member("lib/pkgconfig/mizu-sync.pc"):
                errors.append(f"{ctar.name}: mizu-sync.pc has another Version")
            cmake = member("lib/cmake/MizuSync/MizuSyncConfigVersion.cmake")
            if f'set(PACKAGE_VERSION "{version}")' not in cmake:
                errors.append(f"{ctar.name}: MizuSyncConfigVersion.cmake has another version")
    if m2 is not None:
        base = m2 / GROUP.replace(".", "/") / ARTIFACT
        installed = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        if version not in installed:
            errors.append(f"{base}: version {version} not installed (found {installed})")
        else:
            pom = (base / version / f"{ARTIFACT}-{version}.pom").read_text(encoding="utf-8")
            if not POM_VERSION.search(pom) or POM_VERSION.search(pom).group(2) != version:
                errors.append(f"{base}/{version}: the installed POM has another version")
            for classifier in ("", "-sources", "-javadoc"):
                jar = base / version / f"{ARTIFACT}-{version}{classifier}.jar"
                if not jar.is_file():
                    errors.append(f"{jar}: missing")
    return errors


def stamp(version: str) -> None:
    for pom in (POM, EXAMPLE_POM):
        text = pom.read_text(encoding="utf-8")
        pom.write_text(POM_VERSION.sub(rf"\g<1>{version}\g<3>", text, count=1), encoding="utf-8")
    text = SWIFT.read_text(encoding="utf-8")
    SWIFT.write_text(SWIFT_VERSION.sub(rf"\g<1>{version}\g<3>", text), encoding="utf-8")
    print(f"stamped {version}; now run: bash scripts/test-c.sh --update (the C header's macros)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", choices=["print", "stamp", "check", "macros"])
    parser.add_argument("--dist", type=Path, help="also check the artifacts in this directory")
    parser.add_argument("--m2", type=Path, help="also check this local Maven repository")
    parser.add_argument("--cargo-toml", type=Path, default=ROOT / "Cargo.toml")
    args = parser.parse_args()
    version = cargo_version(args.cargo_toml)
    if args.command in (None, "print"):
        print(version)
        return 0
    if args.command == "macros":
        # The cbindgen `after_includes` text (scripts/test-c.sh).
        macros = expected_macros(version)
        for name, value in macros.items():
            quoted = f'"{value}"' if name == "MIZU_SYNC_VERSION" else value
            print(f"#define {name} {quoted}")
        return 0
    if args.command == "stamp":
        stamp(version)
        return 0
    errors = check_sources(version)
    if args.dist is not None:
        errors += check_dist(version, args.dist, args.m2)
    for error in errors:
        print(f"version mismatch: {error} (Cargo.toml says {version})", file=sys.stderr)
    if not errors:
        print(f"version {version}: all checked places agree")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
