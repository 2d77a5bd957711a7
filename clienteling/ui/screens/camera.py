"""Scan with the camera, on devices that have one and builds that carry flet-camera (Android, iOS, a built web app).

Frames are taken every moment and read with `codes.decode_image` (zxing-cpp, or OpenCV where a mobile build
has no zxing-cpp); the first code found goes through the same lookup as the scan field. The scan field on
the look-up screen always works, camera or not.
"""

from __future__ import annotations

import asyncio
import logging
import os

import flet as ft

from clienteling import codes
from clienteling.device import DeviceError
from clienteling.ui.offloop import off_loop
from clienteling.ui.session import go, screen_for, use_session
from clienteling.ui.widgets import big_button, heading, message, tagged, use_task

try:  # a pure-Python wrapper; the camera itself comes with the Flutter side of a built app
    import flet_camera
except ImportError:  # pragma: no cover - flet-camera is a dependency, but a trimmed build may leave it out
    flet_camera = None

log = logging.getLogger(__name__)
CAMERA_PLATFORMS = (ft.PagePlatform.ANDROID, ft.PagePlatform.IOS)


def camera_available(page: ft.Page) -> bool:
    """Whether to offer camera scanning: flet-camera is there and the platform has a camera it can drive.

    The stock web client that `clienteling --web` serves has no camera extension compiled in; a web app
    made with `flet build web` does, and says so with CLIENTELING_CAMERA=1.
    """
    if flet_camera is None:
        return False
    return page.platform in CAMERA_PLATFORMS or os.environ.get("CLIENTELING_CAMERA") == "1"


@ft.component
def CameraScreen():
    session = use_session()
    camera = ft.use_ref(None)
    error, set_error = ft.use_state(None)

    async def scan_loop():
        control = camera.current
        try:
            cameras = await control.get_available_cameras()
            if not cameras:
                set_error(session.t("no_camera"))
                return
            back = next((c for c in cameras if str(getattr(c, "lens_direction", "")).endswith("back")), cameras[0])
            await control.initialize(back, flet_camera.ResolutionPreset.MEDIUM, enable_audio=False)
            while True:
                picture = await control.take_picture()
                for code in await off_loop(codes.decode_image, picture):
                    try:
                        route = screen_for(await off_loop(session.device.lookup, code.text))
                    except DeviceError as problem:
                        set_error(session.explain(problem))
                        continue
                    if route:
                        go(route)
                        return
                await asyncio.sleep(0.4)
        except Exception as problem:  # noqa: BLE001 - a camera that fails must leave a message, not a dead screen
            log.warning("the camera could not be used: %s", problem)
            set_error(session.t("camera_failed"))

    use_task(scan_loop)
    return ft.Column(
        [
            heading(session.t("camera_title")),
            ft.Container(flet_camera.Camera(ref=camera, expand=True), height=420, border_radius=12)
            if flet_camera
            else ft.Container(),
            message(error, "camera-error"),
            big_button(session.t("back"), lambda _: go("/"), "camera-back", primary=False),
        ],
        spacing=12,
        expand=True,
    )


def camera_button(session) -> ft.Control:
    return tagged(
        "scan-camera",
        ft.OutlinedButton(
            content=session.t("scan_camera"), icon=ft.Icons.PHOTO_CAMERA, height=52, on_click=lambda _: go("/scan")
        ),
    )
