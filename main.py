"""The entry point of the store builds made by `flet build apk|aab|ipa|windows|macos|linux` (build/README.md).

A store build never starts the embedded demo centre: with no centre configured (environment, managed
settings file or the data folder's settings.toml) it shows the set-up screen. `clienteling` from pip keeps
the demo for a first look; this file is only what `flet build` packages ([tool.flet.app] in pyproject.toml).
"""

import os

import flet as ft

from clienteling.ui.app import ASSETS, main

os.environ.setdefault("CLIENTELING_REQUIRE_SETUP", "1")  # read by Settings.load() when the first page opens

# Unguarded, as in Flet's own templates: the packaged app runs this module at start.
ft.run(main, assets_dir=str(ASSETS))
