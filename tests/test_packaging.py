"""Packaged builds: the [tool.flet] settings `flet build` reads, the assets, the wheel in a fresh virtual
environment, and the store server's systemd unit.

This machine has no Flutter SDK, so `flet build` itself cannot run here; its settings are checked with
flet-cli's own code (the test extras install it) as far as that goes without Flutter. The wheel test
builds the sdist and the wheel with `python -m build`, installs the wheel into a new venv (no system site
packages; pip uses this machine's index settings and cache) and runs the installed `clienteling` as a
store server would: `--help`, the demo centre, and `--web` serving the app and its pictures.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from PIL import Image

import clienteling
from clienteling.central import demo_vocab

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
ASSETS = ROOT / "assets"
sys.path.insert(0, str(ROOT / "build"))

import flet_build  # build/flet_build.py, found through the path above
import make_assets


def flet_settings():
    from flet_cli.utils.pyproject_toml import load_pyproject_toml

    return load_pyproject_toml(ROOT)


# ---- [tool.flet]: what `flet build` reads ------------------------------------------------------------------


def test_the_store_build_is_named_and_versioned_from_the_package():
    get = flet_settings()
    assert get("tool.flet.product") == "Clienteling"
    assert get("tool.flet.org") == "nl.example" and get("project.name") == "clienteling"  # nl.example.clienteling
    assert get("tool.flet.artifact") == "Clienteling"
    # flet build takes the version from [project].version only; a dynamic version would give the template's
    assert "version" not in PYPROJECT["project"].get("dynamic", [])
    assert get("project.version") == clienteling.__version__
    assert isinstance(get("tool.flet.build_number"), int) and get("tool.flet.build_number") >= 1
    for colour in (get("tool.flet.splash.color"), get("tool.flet.splash.dark_color")):
        assert colour.startswith("#") and len(colour) == 7 and int(colour[1:], 16) >= 0


def test_the_camera_is_asked_for_on_android_ios_and_macos():
    from flet_cli.commands.build import Command

    get = flet_settings()
    assert "camera" in get("tool.flet.permissions")
    bundle = Command(argparse.ArgumentParser()).cross_platform_permissions["camera"]  # what flet build expands
    assert bundle["android_permissions"] == {"android.permission.CAMERA": True}
    assert bundle["android_features"]["android.hardware.camera"] is False  # tablets without a camera still install
    assert bundle["macos_entitlements"] == {"com.apple.security.device.camera": True}
    for platform in ("ios", "macos"):
        text = get(f"tool.flet.{platform}.info")["NSCameraUsageDescription"]
        assert "scan" in text and "Clienteling" in text  # our words, not the bundle's generic ones


def mobile(platform_system: str) -> bool:
    return platform_system in ("Android", "iOS")


@pytest.mark.parametrize(
    "config_platform, platform_system, sys_platform",
    [
        ("android", "Android", "android"),
        ("ios", "iOS", "ios"),
        ("linux", "Linux", "linux"),
        ("windows", "Windows", "win32"),
        ("macos", "Darwin", "darwin"),
    ],
)
def test_each_platform_gets_packages_it_has_wheels_for(config_platform, platform_system, sys_platform):
    """flet build installs [project].dependencies plus [tool.flet.<platform>].dependencies for the target;
    the markers decide per target (zxing-cpp and the web server extra have no Android/iOS wheels)."""
    from flet_cli.utils.project_dependencies import get_project_dependencies

    get = flet_settings()
    wanted = get_project_dependencies(get("project.dependencies")) + (
        get_project_dependencies(get(f"tool.flet.{config_platform}.dependencies")) or []
    )
    environment = {"platform_system": platform_system, "sys_platform": sys_platform, "extra": ""}
    installed = [r for r in map(Requirement, wanted) if r.marker is None or r.marker.evaluate(environment)]
    names = {r.name for r in installed}
    web_extra = any(r.name == "flet" and "web" in r.extras for r in installed)
    assert {"flet", "pydantic", "httpx", "sqlite-utils", "qrcode"} <= names
    if mobile(platform_system):
        assert "zxing-cpp" not in names and not web_extra
        assert "opencv-python" in names  # clienteling.codes.decode_image falls back to OpenCV
    else:
        assert "zxing-cpp" in names and web_extra
        assert "opencv-python" not in names


def test_main_py_is_the_entry_and_asks_for_set_up():
    get = flet_settings()
    entry = ROOT / f"{get('tool.flet.app.module')}.py"
    tree = ast.parse(entry.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    flags = [c for c in calls if ast.unparse(c).startswith("os.environ.setdefault('CLIENTELING_REQUIRE_SETUP', '1')")]
    runs = [c for c in calls if ast.unparse(c.func) == "ft.run"]
    assert flags and runs
    for path in get("tool.flet.app.exclude"):
        assert path in ("dist", "clienteling.egg-info", "screenshots-tmp") or (ROOT / path).exists(), path


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "clienteling").rglob("__init__.py")}
    assert found <= listed, found - listed
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert mapped == {"clienteling.assets": "assets"}


# ---- the assets -----------------------------------------------------------------------------------------------


def test_icon_and_splash_are_ours_and_the_right_size():
    icon = Image.open(ASSETS / "icon.png")
    assert icon.size == (1024, 1024)
    assert icon.convert("RGBA").getextrema()[3] == (255, 255)  # opaque: iOS removes an alpha channel
    assert icon.convert("RGB").getpixel((10, 10)) == make_assets.TEAL
    splash = Image.open(ASSETS / "splash.png")
    assert splash.size[0] == splash.size[1] >= 512
    licences = (ASSETS / "LICENSES.md").read_text(encoding="utf-8")
    for name in ("icon.png", "splash.png", "favicon.png", "icons/*.png", "products/<style>.png", "CC0"):
        assert name in licences, name
    for font in ASSETS.glob("fonts/*.ttf"):  # a font is not ours: it ships with its licence, named in LICENSES.md
        assert f"fonts/{font.name}" in licences and "fonts/LICENSE-DejaVu.txt" in licences
        assert "Permission is hereby granted" in (ASSETS / "fonts" / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert make_assets.main(["--check"]) == 0


def test_the_web_page_is_flets_own_with_only_the_offline_script_added():
    """assets/index.html replaces flet-web's page (Flet serves an index.html from the assets folder first): it must
    stay Flet's own, line for line, so that an upgrade of flet-web that changes its page fails here until the page
    is copied again (with the one line added after `<!-- fletAppConfig -->`)."""
    from flet_web import get_package_web_dir

    flets = (Path(get_package_web_dir()) / "index.html").read_text(encoding="utf-8").splitlines()
    ours = (ASSETS / "index.html").read_text(encoding="utf-8").splitlines()
    added = [line for line in ours if line not in flets]
    assert len(added) == 1 and '<script src="offline.js"></script>' in added[0]
    assert [line for line in ours if line != added[0]] == flets
    assert ours[ours.index(added[0]) - 1].strip() == "<!-- fletAppConfig -->"  # after Flet's settings, before Flutter
    assert (ASSETS / "offline.js").is_file() and (ASSETS / "no-rive.js").is_file()


def test_a_picture_for_every_demo_style_and_the_chain_names_it(tmp_path):
    from clienteling.central.demo import build_demo

    pictures = [ASSETS / "products" / f"{style}.png" for style, *_ in demo_vocab.STYLES]
    assert len(pictures) == 56
    for picture in pictures:
        assert Image.open(picture).size == (256, 256)
    assert sum(p.stat().st_size for p in pictures) < 1024 * 1024
    build_demo(tmp_path / "demo.db", 3)
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        images = [json.loads(doc)["image"] for (doc,) in conn.execute("SELECT doc FROM products")]
    assert len(images) == 56 and all((ASSETS / image).is_file() for image in images)


def test_the_build_copy_holds_the_app_and_nothing_else(tmp_path):
    from flet_cli.utils.app_excludes import find_default_excludes

    staged = flet_build.stage(ROOT, tmp_path / "src")
    for needed in ("main.py", "pyproject.toml", "assets/icon.png", "assets/splash.png", "clienteling/ui/app.py"):
        assert (staged / needed).is_file(), needed
    assert not (staged / "assets" / "docs").exists() and not (staged / "tests").exists()
    assert not list(staged.rglob("__pycache__"))
    assert find_default_excludes(staged) == []  # nothing flet would drop silently
    (staged / "build" / "flutter").mkdir(parents=True)  # flet's cached Flutter project survives a new copy
    flet_build.stage(ROOT, staged)
    assert (staged / "build" / "flutter").is_dir()
    command = flet_build.flet_command("apk", ["--split-per-abi"])
    staged_at, out = str(flet_build.STAGE), str(flet_build.OUT / "apk")
    assert command[-6:] == ["build", "apk", staged_at, "--output", out, "--split-per-abi"]


# ---- the store server's systemd unit --------------------------------------------------------------------------


def unit_lines() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (ROOT / "build" / "clienteling-web.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_the_store_server_unit_runs_the_web_app_sandboxed():
    unit = unit_lines()
    assert unit["ExecStart"] == ["/opt/clienteling/venv/bin/clienteling --web --host 0.0.0.0 --port 8550"]
    assert unit["User"] == ["clienteling"] and unit["EnvironmentFile"] == ["/etc/clienteling/clienteling.env"]
    assert unit["Restart"] == ["on-failure"] and unit["StateDirectory"] == ["clienteling"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == ["/var/lib/clienteling"]
    assert "CLIENTELING_DATA_DIR=/var/lib/clienteling" in unit["Environment"][0]
    example = (ROOT / "build" / "clienteling.env.example").read_text(encoding="utf-8")
    keys = {line.split("=")[0] for line in example.splitlines() if "=" in line and not line.startswith("#")}
    assert keys == {
        "CLIENTELING_STORE",
        "CLIENTELING_CENTRAL_URL",
        "CLIENTELING_DEVICE_TOKEN",
        "CLIENTELING_REQUIRE_SETUP",
    }


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not on this machine")
def test_systemd_accepts_the_unit(tmp_path):
    """systemd-analyze verify, with ExecStart pointed at a program that exists here; it warns (and exits 0)
    about an unknown key or a wrong value, so any output at all fails the test."""
    text = (ROOT / "build" / "clienteling-web.service").read_text(encoding="utf-8")
    text = text.replace("/opt/clienteling/venv/bin/clienteling", sys.executable)
    unit = tmp_path / "clienteling-web.service"

    def verify(content: str) -> subprocess.CompletedProcess:
        unit.write_text(content, encoding="utf-8")
        return subprocess.run(
            ["systemd-analyze", "verify", str(unit)], check=False, capture_output=True, text=True, timeout=60
        )

    done = verify(text)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stderr
    done = verify(text.replace("ProtectSystem=strict", "ProtectSystem=stric"))  # and it can fail
    assert "protect system" in done.stderr.lower()


# ---- the wheel, installed into a fresh venv -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer: {log.read_text(errors='replace')}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"python -m build: {time.monotonic() - started:.1f} s")
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    python = folder / ("Scripts" if os.name == "nt" else "bin") / "python"
    assert "include-system-site-packages = false" in (folder / "pyvenv.cfg").read_text()
    wheel = next(dist.glob("clienteling-*.whl"))
    started = time.monotonic()
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"pip install of the wheel into a fresh venv: {time.monotonic() - started:.1f} s")
    return folder


@pytest.mark.slow
def test_sdist_and_wheel_hold_the_app_and_its_pictures(dist):
    version = clienteling.__version__
    wheel = dist / f"clienteling-{version}-py3-none-any.whl"
    sdist = dist / f"clienteling-{version}.tar.gz"
    assert wheel.is_file() and sdist.is_file()
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "clienteling/ui/app.py",
        "clienteling/assets/icon.png",
        "clienteling/assets/LICENSES.md",
        "clienteling/assets/fonts/DejaVuSans.ttf",  # the card's font (accents in names)
        "clienteling/assets/fonts/LICENSE-DejaVu.txt",
        "clienteling/assets/index.html",  # the web page that keeps every request on the machine
        "clienteling/assets/offline.js",
        "clienteling/assets/no-rive.js",
    ):
        assert needed in names, needed
    assert sum(n.startswith("clienteling/assets/products/") for n in names) == 56
    assert not [n for n in names if "/docs/" in n or n.startswith(("tests/", "build/", "main.py"))]
    metadata = zipfile.ZipFile(wheel).read(f"clienteling-{version}.dist-info/METADATA").decode()
    assert 'Requires-Dist: zxing-cpp>=2.2; platform_system != "Android"' in metadata
    assert (
        "clienteling = clienteling.cli:main"
        in zipfile.ZipFile(wheel).read(f"clienteling-{version}.dist-info/entry_points.txt").decode()
    )


@pytest.mark.slow
def test_the_installed_wheel_runs_help_the_demo_centre_and_the_web_app(venv, tmp_path):
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    command = bin_dir / "clienteling"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIENTELING_", "PYTHON"))}
    env.update(CLIENTELING_DATA_DIR=str(tmp_path / "data"), CLIENTELING_MANAGED_SETTINGS="")
    # run from an empty folder, so nothing can be imported from this checkout
    run = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True, "timeout": 120}

    helped = subprocess.run([str(command), "--help"], check=False, **run)
    assert helped.returncode == 0, helped.stderr
    for word in ("usage: clienteling", "central", "--web", "CLIENTELING_CENTRAL_URL"):
        assert word in helped.stdout, word
    version = subprocess.run([str(command), "--version"], check=False, **run)
    assert version.stdout.strip() == f"clienteling {clienteling.__version__}"
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import clienteling.config as c; print(c.assets_dir())"], check=False, **run
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # the wheel's own pictures

    port = free_port()
    log = tmp_path / "central.log"
    with open(log, "wb") as out:
        central = subprocess.Popen(
            [str(command), "central", "--demo", "--customers", "50", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        centre = f"http://127.0.0.1:{port}"
        health = wait_for(f"{centre}/health", central, log).json()
        assert health == {"status": "ok", "version": clienteling.__version__, "demo": True}
        stores = httpx.get(
            f"{centre}/v1/sync/stores", headers={"Authorization": "Bearer demo-AMS01"}, timeout=10
        ).json()
        assert "AMS01" in {s["code"] for s in stores["items"]}
        refused = httpx.get(f"{centre}/v1/sync/stores", headers={"Authorization": "Bearer nobody"}, timeout=10)
        assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")

        # the store server: `clienteling --web` on that centre, as build/clienteling-web.service starts it
        web_port = free_port()
        web_env = {
            **env,
            "CLIENTELING_CENTRAL_URL": centre,
            "CLIENTELING_DEVICE_TOKEN": "demo-AMS01",
            "CLIENTELING_STORE": "AMS01",
            "CLIENTELING_DATA_DIR": str(tmp_path / "store-server"),
        }
        web_log = tmp_path / "web.log"
        with open(web_log, "wb") as out:
            web = subprocess.Popen(
                [str(command), "--web", "--host", "127.0.0.1", "--port", str(web_port)],
                cwd=tmp_path,
                env=web_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            page = wait_for(f"http://127.0.0.1:{web_port}/", web, web_log)
            assert "<html" in page.text.lower() and "flutter" in page.text.lower()
            icon = httpx.get(f"http://127.0.0.1:{web_port}/icon.png", timeout=10)
            assert icon.status_code == 200 and icon.content == (ASSETS / "icon.png").read_bytes()
            picture = httpx.get(f"http://127.0.0.1:{web_port}/products/CT01.png", timeout=10)
            assert picture.status_code == 200 and picture.content == (ASSETS / "products" / "CT01.png").read_bytes()
            assert (tmp_path / "store-server" / "cache.db").is_file()  # it synced with the centre
            assert not (tmp_path / "store-server" / "central-demo.db").exists()  # and made no demo of its own
        finally:
            stop(web)
    finally:
        stop(central)
