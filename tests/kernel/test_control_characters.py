"""A NUL in a title or an attribute value: kept exactly, as Operate keeps it (its .NET JSON reads the escape,
SQL Server's nvarchar stores it), given back exactly by the API and snapshots, and shown on the pages as
a visible ␀ rather than dropped by the browser."""

from __future__ import annotations

import csv
import io

from tests.conftest import events_of
from tests.helpers.clio_sync import CLIO, api_as, connect, expected_outcome
from tests.helpers.clio_sync import env as clio_env  # noqa: F401  (a fixture: an emulator with a fake Clio firm)

TITLE = "a\u0000b"
VALUE = "x\u0000y\u0007z"


def _item_with_controls(api) -> str:
    created = api.post(
        "/api/v1/public/workItem", {"workItem": {"sharedoTypeSystemName": "matter-private-client", "title": TITLE}}
    )
    assert created.status_code == 201, created.json
    item = created.json["workItem"]["id"]
    assert api.post(f"/api/v1/public/workItem/{item}/attributes", {"note": VALUE}).status_code == 200
    return item


def test_the_api_and_snapshots_give_a_nul_back_exactly(api):
    item = _item_with_controls(api)
    assert api.get(f"/api/v1/public/workItem/{item}").json["workItem"]["title"] == TITLE
    assert api.get(f"/api/v1/public/workItem/{item}/attributes/note").json["value"] == VALUE
    assert events_of(api, "sharedo-created")[-1]["Data"]["title"] == TITLE
    snapshot = api.get("/api/_emulator/export").json
    assert api.post("/api/_emulator/reset").status_code == 200
    assert api.post("/api/_emulator/import", snapshot).status_code == 200
    assert api.get(f"/api/v1/public/workItem/{item}").json["workItem"]["title"] == TITLE
    assert api.get(f"/api/v1/public/workItem/{item}/attributes").json["note"] == VALUE


def test_the_pages_show_control_characters_as_pictures_never_raw(app, api):
    item = _item_with_controls(api)
    browser = app.test_client()
    for path in ("/workitems", f"/workitems/{item}", "/events", f"/workitems?q={TITLE[0]}"):
        page = browser.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, path
        assert "\x00" not in html and "\x07" not in html, path
        assert "a\u2400b" in html, path  # ␀: the reader sees there is something between a and b
    assert "x\u2400y\u2407z" in browser.get(f"/workitems/{item}").get_data(as_text=True)


def test_markup_stays_markup_and_ordinary_whitespace_is_left_alone():
    from markupsafe import Markup

    from emulator.kernel.visible import visible_controls

    assert visible_controls(Markup("<b>a\x00b</b>")) == Markup("<b>a\u2400b</b>")
    assert visible_controls("line\tone\r\nline two") == "line\tone\r\nline two"
    assert visible_controls(None) is None and visible_controls(3) == 3


def test_the_clio_results_csv_shows_a_nul_from_clio_as_a_picture(clio_env):  # noqa: F811
    app, em = clio_env
    connect(app)
    matter = next(m for m in em.clio.fake.matters.values() if expected_outcome(em, m) == "imported")
    em.clio.fake.matters[matter["id"]]["display_number"] = "00042-a\x00b"
    result = api_as(app, "priya.shah").post(f"{CLIO}/sync", {"mode": "matter", "matter": matter["id"]}).json
    text = api_as(app, "priya.shah").get(f"{CLIO}/runs/{result['id']}/results.csv").get_data(as_text=True)
    assert "\x00" not in text
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["display_number"] == "00042-a\u2400b"
