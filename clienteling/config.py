"""Settings of a store device: the environment first, then the managed settings file, then `settings.toml`
in the data folder.

`CLIENTELING_CENTRAL_URL`, `CLIENTELING_DEVICE_TOKEN`, `CLIENTELING_STORE`,
`CLIENTELING_DATA_DIR`, `CLIENTELING_LANG`, `CLIENTELING_PURGE_DAYS`, `CLIENTELING_REQUIRE_SETUP` and
`CLIENTELING_SURVEY_URL` (where customers' phones reach the centre's rating page, `/r/<token>`: the centre's public
address; the centre's own URL when not set), `CLIENTELING_SHOP_URL` (the web shop that product links in messages
point to, clienteling.outreach.product_link); the files use the same names in lower case without the prefix
(`central_url = "https://…"`).

The managed settings file is the one that device management (MDM) pushes to a fixed place on the machine,
so a store's devices are configured without anyone typing a URL (build/README.md): it is read from
`CLIENTELING_MANAGED_SETTINGS` if set, else `%ProgramData%\\Clienteling\\settings.toml` (Windows),
`/Library/Application Support/Clienteling/settings.toml` (macOS) or `/etc/clienteling/settings.toml`
(Linux). What it sets wins over the data folder's file, key by key; the environment wins over both.

The data folder is `CLIENTELING_DATA_DIR`, else the app's own storage in a packaged build
(`FLET_APP_STORAGE_DATA`, set by Flet on Android, iOS and the desktop builds), else `~/.clienteling`.

`require_setup` (set by the store builds' main.py): with no centre configured, the app shows its set-up
screen instead of starting the embedded demo centre.
"""

from __future__ import annotations

import locale
import os
import sys
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import tomli_w

SETTINGS_FILE = "settings.toml"


def default_data_dir() -> Path:
    return Path(
        os.environ.get("CLIENTELING_DATA_DIR")
        or os.environ.get("FLET_APP_STORAGE_DATA")
        or Path.home() / ".clienteling"
    )


def managed_settings_path() -> Path | None:
    """Where device management puts this machine's settings file (it need not exist)."""
    explicit = os.environ.get("CLIENTELING_MANAGED_SETTINGS")
    if explicit is not None:
        return Path(explicit) if explicit else None  # set but empty: no managed file
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA") or r"C:\ProgramData") / "Clienteling" / SETTINGS_FILE
    if sys.platform == "darwin":
        return Path("/Library/Application Support/Clienteling") / SETTINGS_FILE
    if sys.platform.startswith("linux"):
        return Path("/etc/clienteling") / SETTINGS_FILE
    return None  # Android and iOS (Python 3.13+ names them): no place outside the app's sandbox


def assets_dir() -> Path:
    """The app's pictures: inside the installed package (a wheel), else the repository's assets/ folder."""
    package = Path(__file__).resolve().parent
    for folder in (package / "assets", package.parent / "assets"):
        if (folder / "icon.png").is_file():
            return folder
    return package.parent / "assets"


def _read_toml(path: Path | None) -> dict:
    if path is None or not path.is_file():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _system_language() -> str:
    language = (locale.getlocale()[0] or os.environ.get("LANG") or "").lower()
    return "nl" if language.startswith("nl") else "en"


@dataclass(frozen=True)
class Settings:
    """What a device needs to know: where the centre is, who it is, where its data lives."""

    data_dir: Path
    central_url: str | None = None
    device_token: str | None = None
    store: str | None = None
    lang: str = "en"
    purge_days: int = 30
    require_setup: bool = False
    survey_url: str | None = None
    shop_url: str | None = None  # None: clienteling.outreach.DEFAULT_SHOP_URL
    # the in-process demo centre's URL when that is the centre this device talks to: its port is new on every
    # start, so it is never saved (nor read from the environment or a file)
    embedded_centre: str | None = None

    @property
    def cache_path(self) -> Path:
        return self.data_dir / "cache.db"

    @property
    def journal_path(self) -> Path:
        """The command journal: the commands made on this device, apart from the rebuildable cache."""
        return self.data_dir / "journal.db"

    @property
    def configured(self) -> bool:
        return bool(self.central_url and self.device_token)

    @property
    def needs_setup(self) -> bool:
        """A store build without its centre: show the set-up screen, not the demo."""
        return self.require_setup and not self.configured

    @classmethod
    def load(cls, data_dir: str | Path | None = None, **overrides: object) -> Settings:
        """Settings from the environment, the managed file, the data folder's settings.toml, then `overrides`."""
        folder = Path(data_dir) if data_dir else default_data_dir()
        from_file = {**_read_toml(folder / SETTINGS_FILE), **_read_toml(managed_settings_path())}
        values: dict = {"data_dir": folder, "lang": _system_language()}
        for field in fields(cls):
            if field.name in ("data_dir", "embedded_centre"):
                continue
            env = os.environ.get(f"CLIENTELING_{field.name.upper()}")
            if env not in (None, ""):
                values[field.name] = env
            elif field.name in from_file:
                values[field.name] = from_file[field.name]
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["purge_days"] = int(values.get("purge_days", 30))
        values["require_setup"] = _flag(values.get("require_setup", False))
        if values.get("lang") not in ("nl", "en"):
            values["lang"] = "en"
        return cls(**values)

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def with_embedded_centre(self, url: str, token: str, store: str) -> Settings:
        """These settings talking to the embedded demo centre at `url` (which `save` never writes down)."""
        return replace(self, central_url=url, device_token=token, store=self.store or store, embedded_centre=url)

    def save(self) -> Path:
        """Write the settings (but the data folder itself) to settings.toml, written by a TOML library so that any
        value (a newline, quotes, a backslash) reads back as it was; replaced in one step, never half written.

        The embedded demo centre is never written down: its port changes on every start, and a file naming it
        would point the next start at a port where nothing answers (offline for good). A centre typed in
        instead of it is written as any other."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        skipped = {"data_dir", "embedded_centre"}
        if self.embedded_centre and self.central_url == self.embedded_centre:
            skipped |= {"central_url", "device_token"}
        values = {
            name: str(value) if isinstance(value, Path) else value
            for name, value in asdict(self).items()
            if name not in skipped and value is not None
        }
        path = self.data_dir / SETTINGS_FILE
        partial = path.with_name(path.name + ".part")
        partial.write_text(tomli_w.dumps(values), encoding="utf-8")
        partial.replace(path)
        return path
