"""The figures in a real browser (issue 14, "Credit where it is due"): Lotte sees her week as a chart and taps an
earlier week for its numbers; Fatima, the manager, sees the whole store and each colleague; offline, the figures kept
last stay on screen with their age."""

from __future__ import annotations

import pytest
from conftest import start_central
from test_browser import App, Screen, browser, wait_until  # noqa: F401 - browser is a fixture

from clienteling.contract import Dashboard


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    folder = tmp_path_factory.mktemp("figures-centre")
    server = start_central(folder / "central.db", "--demo", "--customers", "300")
    yield server
    server.process.poll() is None and server.stop()


def test_lotte_sees_her_week_and_fatima_the_store(centre, browser, tmp_path):  # noqa: F811
    with centre.client() as client:
        board = Dashboard.model_validate(client.get("/v1/dashboard").json())
    lotte = next(s for s in board.staff if s.staff_id == "S0001")
    app = App(tmp_path / "data", centre.url)
    try:
        screen = Screen(browser, app.url)
        screen.sign_in("Lotte Visser", "112233")
        screen.see("nav-figures").click()
        assert screen.text_of("figures-week") == "This week"
        this_week = lotte.weeks[-1]
        assert screen.text_of("figures-in-store") == f"€{this_week.in_store.cents / 100:,.2f}"
        assert (
            screen.tag("figures-whose-S0002").count() == 0
        )  # an associate sees her own and the store's, no one else's
        screen.shot("figures")
        screen.see("figures-whose-store").click()
        wait_until(
            lambda: screen.text_of("figures-in-store") == f"€{board.store_total.weeks[-1].in_store.cents / 100:,.2f}",
            what="the store's figures",
        )
        screen.close()

        screen = Screen(browser, app.url)
        screen.sign_in("Fatima El Amrani", "334455")
        screen.see("nav-figures").click()
        table = screen.see("figures-by-colleague").inner_text()
        assert "Lotte Visser" in table and "Ruben Smit" in table
        screen.shot("figures-manager")
        screen.close()
    finally:
        app.stop()
