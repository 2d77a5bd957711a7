"""A store build's first start: settings from device management, and the set-up screen when they are missing.

The settings come from the environment, the managed file that MDM pushes, and the data folder's
settings.toml, in that order. A store build (CLIENTELING_REQUIRE_SETUP=1) without a centre shows the
set-up screen instead of the demo; what a person types there is checked against the centre and saved.
"Start" then opens the app without a restart. The last test walks through the screen in Chromium (Debian's, as tests/test_browser.py does).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from conftest import free_port, playwright_or_skip

from clienteling import config
from clienteling.bench_ui import CHROMIUM, CHROMIUM_ARGS
from clienteling.config import Settings
from clienteling.ui.screens import setup

ENV = (
    "CLIENTELING_CENTRAL_URL",
    "CLIENTELING_DEVICE_TOKEN",
    "CLIENTELING_STORE",
    "CLIENTELING_DATA_DIR",
    "CLIENTELING_LANG",
    "CLIENTELING_PURGE_DAYS",
    "CLIENTELING_REQUIRE_SETUP",
    "CLIENTELING_MANAGED_SETTINGS",
    "FLET_APP_STORAGE_DATA",
)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No settings from this machine: none in the environment, and the managed file in tmp_path."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    managed = tmp_path / "managed" / "settings.toml"
    monkeypatch.setenv("CLIENTELING_MANAGED_SETTINGS", str(managed))
    return managed


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_managed_file_wins_over_the_data_folder_key_by_key_and_the_environment_over_both(clean_env, tmp_path):
    data = tmp_path / "data"
    write(data / "settings.toml", 'store = "UTR01"\ncentral_url = "https://old.example.nl"\nlang = "nl"\n')
    write(clean_env, 'central_url = "https://central.example.nl"\ndevice_token = "from-mdm"\n')
    settings = Settings.load(data)
    assert settings.central_url == "https://central.example.nl"  # managed
    assert settings.device_token == "from-mdm"  # managed only
    assert settings.store == "UTR01" and settings.lang == "nl"  # the data folder's, where MDM says nothing
    os.environ["CLIENTELING_STORE"] = "RTD01"
    try:
        assert Settings.load(data).store == "RTD01"
    finally:
        del os.environ["CLIENTELING_STORE"]


def test_an_empty_managed_path_turns_the_managed_file_off(clean_env, tmp_path, monkeypatch):
    write(clean_env, 'device_token = "from-mdm"\n')
    monkeypatch.setenv("CLIENTELING_MANAGED_SETTINGS", "")
    assert config.managed_settings_path() is None
    assert Settings.load(tmp_path / "data").device_token is None


def test_the_managed_file_has_a_fixed_place_per_system(monkeypatch):
    monkeypatch.delenv("CLIENTELING_MANAGED_SETTINGS", raising=False)
    monkeypatch.setattr(config.sys, "platform", "linux")
    assert config.managed_settings_path() == Path("/etc/clienteling/settings.toml")
    monkeypatch.setattr(config.sys, "platform", "darwin")
    assert config.managed_settings_path() == Path("/Library/Application Support/Clienteling/settings.toml")
    monkeypatch.setattr(config.sys, "platform", "win32")
    monkeypatch.setenv("PROGRAMDATA", "D:\\ProgramData")
    assert config.managed_settings_path() == Path("D:\\ProgramData") / "Clienteling" / "settings.toml"
    monkeypatch.setattr(config.sys, "platform", "android")
    assert config.managed_settings_path() is None


def test_a_packaged_app_keeps_its_data_in_flets_app_storage(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("FLET_APP_STORAGE_DATA", str(tmp_path / "flet-storage"))
    assert config.default_data_dir() == tmp_path / "flet-storage"
    monkeypatch.setenv("CLIENTELING_DATA_DIR", str(tmp_path / "chosen"))
    assert config.default_data_dir() == tmp_path / "chosen"


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("yes", True), ("0", False), ("", False)])
def test_require_setup_from_the_environment(clean_env, monkeypatch, tmp_path, value, expected):
    monkeypatch.setenv("CLIENTELING_REQUIRE_SETUP", value)
    settings = Settings.load(tmp_path / "data")
    assert settings.require_setup is expected
    assert settings.needs_setup is expected  # no centre configured
    assert settings.with_changes(central_url="https://c.example.nl", device_token="t").needs_setup is False


def test_require_setup_from_a_file_and_saved_as_toml(clean_env, tmp_path):
    write(clean_env, "require_setup = true\n")
    settings = Settings.load(tmp_path / "data")
    assert settings.needs_setup
    path = settings.with_changes(store="AMS01", central_url="https://c.example.nl", device_token="tok").save()
    saved = tomllib.loads(path.read_text(encoding="utf-8"))  # valid TOML: booleans as true/false
    assert saved["require_setup"] is True and saved["purge_days"] == 30 and saved["store"] == "AMS01"
    clean_env.unlink()
    again = Settings.load(tmp_path / "data")
    assert again.require_setup and again.configured and not again.needs_setup


@pytest.mark.parametrize(
    "store, token",
    [
        ("AMS01", 'tok"en\nnext = "line'),  # a newline and quotes: the file must still read, and read back the same
        ('AMS"01\\', 'tab\there\r\nand\u00e9 \'single\' """ triple'),
    ],
)
def test_saved_settings_with_newlines_and_quotes_read_back_and_the_app_still_starts(clean_env, tmp_path, store, token):
    saved = Settings.load(tmp_path / "data").with_changes(
        store=store, central_url='https://c.example.nl/x?a="b"', device_token=token
    )
    path = saved.save()
    tomllib.loads(path.read_text(encoding="utf-8"))  # valid TOML
    again = Settings.load(tmp_path / "data")  # the next start
    assert (again.store, again.device_token, again.central_url) == (store, token, saved.central_url)
    assert set(tomllib.loads(path.read_text(encoding="utf-8"))) == {
        "central_url",
        "device_token",
        "store",
        "lang",
        "purge_days",
        "require_setup",
    }  # a value never smuggles in a key of its own
    assert again.save().read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_saving_settings_on_the_embedded_demo_centre_never_pins_its_port(clean_env, tmp_path):
    running = Settings.load(tmp_path / "data").with_embedded_centre("http://127.0.0.1:41234", "demo-AMS01", "AMS01")
    assert running.configured and running.store == "AMS01"
    # what the Settings screen saves: its fields as they show, and the language
    shown = {"store": running.store, "central_url": running.central_url, "device_token": running.device_token}
    running.with_changes(lang="nl", **shown).save()
    after = Settings.load(tmp_path / "data")  # the next start
    assert not after.configured and after.central_url is None and after.device_token is None  # the demo again
    assert (after.lang, after.store, after.embedded_centre) == ("nl", "AMS01", None)
    # a centre typed in over the demo's is the store's own: kept
    running.with_changes(central_url="https://central.example.nl", device_token="tok").save()
    kept = Settings.load(tmp_path / "data")
    assert (kept.central_url, kept.device_token) == ("https://central.example.nl", "tok")


@pytest.mark.parametrize(
    "values, wrong",
    [
        ({"store": "ams01", "central_url": "https://central.example.nl", "device_token": "t"}, set()),
        ({"store": "", "central_url": "", "device_token": " "}, {"store", "central_url", "device_token"}),
        ({"store": "AMS 01", "central_url": "central.example.nl", "device_token": "t"}, {"store", "central_url"}),
        ({"store": "AMS01", "central_url": "ftp://central.example.nl", "device_token": "t"}, {"central_url"}),
        ({"store": "AMS01", "central_url": "https://", "device_token": "t"}, {"central_url"}),
    ],
)
def test_the_set_up_form_says_which_fields_are_wrong(values, wrong):
    problems = setup.validate(values)
    assert set(problems) == wrong
    for key in problems.values():
        assert setup.say("nl", key) and setup.say("en", key) != setup.say("nl", key)  # both languages


def test_the_set_up_check_asks_the_centre(central):
    assert setup.check_centre(central.url, "demo-AMS01", "AMS01") == ("ok", "AMS01")
    assert setup.check_centre(central.url + "/", "demo-AMS01", "AMS01")[0] == "ok"
    assert setup.check_centre(central.url, "not-a-token", "AMS01")[0] == "refused"
    assert setup.check_centre(central.url, "demo-AMS01", "XXX99") == ("no_such_store", "XXX99")
    verdict, detail = setup.check_centre(f"http://127.0.0.1:{free_port()}", "demo-AMS01", "AMS01", timeout=2)
    assert verdict == "unreachable" and detail


class FakePage:
    def __init__(self) -> None:
        self.rendered: list[tuple] = []

    def render(self, component, *args) -> None:
        self.rendered.append((component, *args))


def test_a_store_build_without_a_centre_gets_the_set_up_screen_and_no_demo(clean_env, monkeypatch, tmp_path):
    from clienteling.ui import app

    monkeypatch.setenv("CLIENTELING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLIENTELING_REQUIRE_SETUP", "1")
    started = []
    monkeypatch.setattr(app, "shared_device", lambda: started.append(1) or "device")
    page = FakePage()
    app.main(page)
    (component, settings, start, prepare) = page.rendered[0]
    assert component is setup.FirstStart and settings.needs_setup and callable(start) and not started
    assert prepare is app.shared_device  # opened (and first synced) off the event loop when Start is pressed
    assert not (tmp_path / "data" / "central-demo.db").exists()

    monkeypatch.delenv("CLIENTELING_REQUIRE_SETUP")  # `clienteling` from pip: the demo, as before
    page = FakePage()
    app.main(page)
    assert page.rendered == [(app.App, "device")] and started == [1]


# ---- the set-up screen in a browser ------------------------------------------------------------------------


@pytest.mark.slow
def test_set_up_in_a_browser_then_the_app_on_reload(central, tmp_path):
    sync_playwright = playwright_or_skip("the set-up journey")
    port = free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    env.update(
        CLIENTELING_DATA_DIR=str(data),
        CLIENTELING_REQUIRE_SETUP="1",
        CLIENTELING_MANAGED_SETTINGS="",
        CLIENTELING_LANG="en",
    )
    url = f"http://127.0.0.1:{port}/"
    with open(tmp_path / "web.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "clienteling", "--web", "--port", str(port)], stdout=log, stderr=log, env=env
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()
            time.sleep(0.2)
        assert not (data / "central-demo.db").exists()  # no demo chain was made
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 800, "height": 1280})
            try:
                set_up(page, url, central.url, data)
            except Exception:
                page.screenshot(path=str(tmp_path / "setup-failed.png"))
                raise
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


def set_up(page, url: str, central_url: str, data: Path) -> None:
    def open_app():
        page.goto(url)
        page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30000)
        page.evaluate("document.querySelector('flt-semantics-placeholder').click()")

    def tag(name: str, timeout: float = 30000):
        found = page.locator(f"[flt-semantics-identifier='{name}']").first
        found.wait_for(timeout=timeout)
        return found

    def fill(label: str, text: str):
        """Fill a field until it holds the text (Flutter may still be settling the frame after a change)."""
        box = page.get_by_role("textbox", name=label)
        deadline = time.monotonic() + 15
        while True:
            box.fill(text)
            page.wait_for_timeout(200)
            if box.input_value() == text:
                return
            assert time.monotonic() < deadline, f"{label} does not take {text!r}"

    open_app()
    assert "Missing: Store, Central URL, Device token" in tag("setup-missing").inner_text()
    tag("setup-save").click()  # nothing filled in: the fields say so, nothing is saved
    page.get_by_text("Enter the device token that IT gave you.").wait_for(timeout=10000)
    assert not (data / "settings.toml").exists()
    fill("Store", "AMS01")
    fill("Central URL", central_url)
    fill("Device token", "wrong-token")
    tag("setup-save").click()
    page.get_by_text("The centre refused this device token").wait_for(timeout=30000)
    assert not (data / "settings.toml").exists()
    fill("Device token", "demo-AMS01")
    tag("setup-save").click()
    page.get_by_text("the centre knows this device").wait_for(timeout=30000)
    saved = tomllib.loads((data / "settings.toml").read_text(encoding="utf-8"))
    assert (saved["store"], saved["central_url"], saved["device_token"]) == ("AMS01", central_url, "demo-AMS01")
    tag("setup-start").click()  # no restart: the app starts on the centre that was typed in
    tag("sign-in-title", timeout=90000)  # after the device's first sync with the centre
    page.locator("[flt-semantics-identifier^='staff-']", has_text="Lotte Visser").first.wait_for(timeout=20000)
