"""Settings of a store device: the environment first, then `settings.toml` in the data folder.

`CLIENTELING_CENTRAL_URL`, `CLIENTELING_DEVICE_TOKEN`, `CLIENTELING_STORE`,
`CLIENTELING_DATA_DIR`, `CLIENTELING_LANG` and `CLIENTELING_PURGE_DAYS`; the file uses
the same names in lower case without the prefix (`central_url = "https://…"`).
"""

from __future__ import annotations

import locale
import os
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

SETTINGS_FILE = "settings.toml"


def default_data_dir() -> Path:
    return Path(os.environ.get("CLIENTELING_DATA_DIR") or Path.home() / ".clienteling")


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

    @property
    def cache_path(self) -> Path:
        return self.data_dir / "cache.db"

    @property
    def configured(self) -> bool:
        return bool(self.central_url and self.device_token)

    @classmethod
    def load(cls, data_dir: str | Path | None = None, **overrides: object) -> Settings:
        """Settings from the environment, then the data folder's settings.toml, then `overrides`."""
        folder = Path(data_dir) if data_dir else default_data_dir()
        from_file: dict = {}
        path = folder / SETTINGS_FILE
        if path.exists():
            with path.open("rb") as handle:
                from_file = tomllib.load(handle)
        values: dict = {"data_dir": folder, "lang": _system_language()}
        for field in fields(cls):
            if field.name == "data_dir":
                continue
            env = os.environ.get(f"CLIENTELING_{field.name.upper()}")
            if env not in (None, ""):
                values[field.name] = env
            elif field.name in from_file:
                values[field.name] = from_file[field.name]
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["purge_days"] = int(values.get("purge_days", 30))
        if values.get("lang") not in ("nl", "en"):
            values["lang"] = "en"
        return cls(**values)

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def save(self) -> Path:
        """Write the settings (but the data folder itself) to settings.toml."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = []
        for name, value in asdict(self).items():
            if name == "data_dir" or value is None:
                continue
            lines.append(f"{name} = {value}" if isinstance(value, int) else f'{name} = "{_toml_escape(str(value))}"')
        path = self.data_dir / SETTINGS_FILE
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def _toml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
