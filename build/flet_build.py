"""Make a store build with `flet build`, from a clean copy of the app (build/README.md).

    python build/flet_build.py apk                 # or aab, ipa, ios-simulator, windows, macos, linux
    python build/flet_build.py apk --dry-run       # stage the copy and print the flet command, build nothing
    python build/flet_build.py apk -- --split-per-abi   # anything after -- goes to `flet build` as it is

`flet build` works inside `<app>/build/` (its Flutter project, site-packages and outputs) and may delete that
folder whole (`flet clean`, or a change of Python version). In this repository build/ holds our own files,
so the app is first copied to build/out/src/ (only what the app needs: pyproject.toml, README.md, main.py,
clienteling/ and assets/ without the README's screenshots) and built there; the result lands in
build/out/<target>/. build/out/ is ignored by git, and the Flutter project in build/out/src/build/ is kept
between runs, so a second build of the same target is quicker.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "out"
STAGE = OUT / "src"
TARGETS = ("apk", "aab", "ipa", "ios-simulator", "windows", "macos", "linux")
FILES = ("pyproject.toml", "README.md", "main.py")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "docs", ".DS_Store")


def stage(source: Path = ROOT, destination: Path = STAGE) -> Path:
    """Copy what the app needs to `destination`, keeping the Flutter project flet left in its build/."""
    destination.mkdir(parents=True, exist_ok=True)
    for entry in destination.iterdir():
        if entry.name == "build":
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for name in FILES:
        shutil.copy2(source / name, destination / name)
    for folder in ("clienteling", "assets"):
        shutil.copytree(source / folder, destination / folder, ignore=IGNORE)
    return destination


def flet_command(target: str, extra: list[str]) -> list[str]:
    flet = shutil.which("flet")
    base = [flet] if flet else [sys.executable, "-m", "flet.cli"]
    return [*base, "build", target, str(STAGE), "--output", str(OUT / target), *extra]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--dry-run", action="store_true", help="stage the app and print the command only")
    args = parser.parse_args(argv)
    stage()
    command = flet_command(args.target, extra)
    print(f"staged the app in {STAGE}")
    print("running: " + " ".join(command), flush=True)
    if args.dry_run:
        return 0
    if shutil.which("flet") is None:
        print("`flet` is not installed here: pip install 'flet[cli]==1.0.5' (build/README.md)", file=sys.stderr)
        return 2
    return subprocess.call(command, cwd=STAGE)


if __name__ == "__main__":
    raise SystemExit(main())
