"""Screenshots for the README, taken from the running code, so they stay true.

    python scripts/screenshots.py [--out docs/images] [--only widgets|web|walk] [--walk] [--walk-out DIR]

Serves the demo solution (virtual clock on the plugin's start time, demo PMS in process) on a loopback
port and photographs in Debian's chromium each built-in widget, the demo matter's portal page, and the
emulator's own web pages after a matter is created and opened (its inception plan run once into a PMS
fault, then retried): home, the matter, its execution's timeline, the event stream. With `--only tools` (and by
default) the implementor's tools on the demo served with plan coverage on: a plan's source marked with its
coverage, a step rerun with an edited ctx beside the original, a step's ctx after each host call.

With `--walk` (or `--only walk`) it also walks every page a newcomer opens, signed in as the demo's
users, and photographs each as a person sees it at 1400 × 1000 and at 1024 × 768 into
`build/pages/<page>-<width>.png` (`--walk-out`): home, work items, the new-work-item form, the matter,
its execution, executions, plans, a plan's source, the clock just after "+ 20 minutes", events, the PMS
list, the demo PMS and its books, the outbox, the widget gallery, the matter's portal page, a widget,
Settings › Integrations with an Individual Case result open, and that sync's matters. The README's
pictures of the demo PMS and the clock are copied from these.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATTER = "3c000000-0000-4000-8000-000000000001"
SHOTS = {
    "wip-widget.png": f"/widgets/OperateFinance.WipWidget?workItem={MATTER}&scenario=ok",
    "aged-debt-widget.png": f"/widgets/OperateFinance.AgedDebtWidget?workItem={MATTER}&scenario=ok",
    "matter-portal.png": f"/portal/{MATTER}?scenario=ok",
}
VIEWPORTS = ((1400, 1000), (1024, 768))  # a laptop and the smallest screen the pages are made for
README_FROM_WALK = {"pms-books-1400": "web-pms.png", "clock-1400": "web-clock.png"}
WEB_SHOTS = ("web-home.png", "web-work-item.png", "web-execution.png", "web-events.png")
CLIENT_ORG = "2b000000-0000-4000-8000-000000000001"  # Northgate Logistics
FEE_EARNER = "1a000000-0000-4000-8000-000000000001"  # Priya Shah


def stage_matter(app) -> tuple[str, str]:
    """A matter with a client, opened while the demo PMS fails once, then retried: (work item, execution)."""
    from smartplans.testing import ApiClient

    em = app.extensions["operate"]
    token = em.identity.issue("demo-client", "priya.shah")
    api = ApiClient(app, lambda renew=False: f"Bearer {token}")
    body = {
        "workItem": {"sharedoTypeSystemName": "matter-commercial", "title": "Northgate Logistics - warehouse lease"},
        "participants": [
            {"roleSystemName": "client", "odsId": CLIENT_ORG},
            {"roleSystemName": "fee-earner", "odsId": FEE_EARNER},
        ],
    }
    item = api.post("/api/v1/public/workItem", body).json["workItem"]["id"]
    em.linked_services.fakes["demo-pms"].add_fault("/api/matters", "POST", status=503, times=1)
    api.put(f"/api/v1/public/workItem/{item}/phase", {"toPhaseSystemName": "matter-open"})
    (execution,) = em.smartplans.executions(sharedo_id=item)
    step = execution["steps"][0]["id"]
    api.post(f"/api/executionengine/plans/executing/{execution['id']}/steps/{step}/retry")
    return item, execution["id"]


def widget_shots(page, base: str, out: Path) -> None:
    for name, path in SHOTS.items():
        page.goto(base + path)
        page.wait_for_selector("html[data-operate-bound]", state="attached", timeout=15_000)
        if "portal" in name:
            page.screenshot(path=str(out / name), clip={"x": 0, "y": 0, "width": 1280, "height": 620})
        else:
            if "aged" in name:  # show a bucket's invoices, as a click would
                page.locator('.of-bucket[data-bucket="31-60"] button').click()
            page.locator("section.op-widget").first.screenshot(path=str(out / name))
        print(f"wrote {out / name}")


def modes_shot(page, base: str, out: Path) -> None:
    """The modes in the gallery: its culture, currency and viewport toggles set to fr-FR, EUR and phone (chosen
    as a person chooses them), beside the WIP widget that the card's "OK" scenario link then opens in them."""
    from io import BytesIO

    from PIL import Image

    page.goto(f"{base}/widgets")
    for kind, value in (("workItem", MATTER), ("locale", "fr-FR"), ("currency", "EUR"), ("viewport", "phone")):
        page.select_option(f'#op-gallery-choices select[name="{kind}"]', value)
    card = page.locator('.op-card[data-widget="OperateFinance.WipWidget"]')
    box = card.bounding_box()
    gallery = page.screenshot(clip={"x": 0, "y": 0, "width": 1280, "height": min(box["y"] + box["height"] + 16, 760)})
    link = card.locator('a.op-scenario[data-scenario="ok"]')
    page.goto(base + link.get_attribute("href"))
    page.wait_for_selector("html[data-operate-bound]", state="attached", timeout=15_000)
    widget = page.locator("section.op-widget").first.screenshot()
    images = [Image.open(BytesIO(png)).convert("RGB") for png in (gallery, widget)]
    gap = 16
    sheet = Image.new("RGB", (images[0].width + gap + images[1].width, max(i.height for i in images)), (243, 244, 246))
    sheet.paste(images[0], (0, 0))
    sheet.paste(images[1], (images[0].width + gap, 0))
    sheet.save(out / "widget-modes.png")
    print(f"wrote {out / 'widget-modes.png'}")


def snapshot_diff_shot(page, base: str, out: Path) -> None:
    """What a failing `assert_snapshot` writes, side by side: the WIP widget's baseline, the widget after a CSS
    change (the total drawn in another colour, the table's rows taller), and the diff image (changed pixels red
    on the faded baseline)."""
    from io import BytesIO

    from PIL import Image

    from widgets.browser import HarnessPage
    from widgets.snapshots import capture, compare

    page.goto(f"{base}/widgets/OperateFinance.WipWidget?workItem={MATTER}&scenario=ok")
    page.wait_for_selector("html[data-operate-bound]", state="attached", timeout=15_000)
    shots = [capture(HarnessPage(page, base))]
    changed = ".of-total-all .of-value { color: #b91c1c !important; } .of-table td { padding-top: 6px !important; }"
    page.add_style_tag(content=changed)
    shots.append(capture(HarnessPage(page, base)))
    diff = compare(*shots).diff_png
    images = [Image.open(BytesIO(png)).convert("RGB") for png in (*shots, diff)]
    gap = 16
    width = sum(i.width for i in images) + gap * (len(images) - 1)
    sheet = Image.new("RGB", (width, max(i.height for i in images)), (243, 244, 246))
    x = 0
    for image in images:
        sheet.paste(image, (x, 0))
        x += image.width + gap
    sheet.save(out / "snapshot-diff.png")
    print(f"wrote {out / 'snapshot-diff.png'}")


def web_shots(app, page, base: str, out: Path) -> None:
    item, execution = stage_matter(app)
    paths = dict(zip(WEB_SHOTS, ("/", f"/workitems/{item}", f"/executions/{execution}", "/events"), strict=True))
    for name, path in paths.items():
        page.goto(base + path)
        if name == "web-execution.png":  # a host call opened, as a click would
            page.locator("details.web-call").nth(1).locator("summary").click()
        page.screenshot(path=str(out / name), clip={"x": 0, "y": 0, "width": 1280, "height": 760})
        print(f"wrote {out / name}")


def clio_shot(app, page, base: str, out: Path) -> None:
    """Settings > Integrations once the demo firm has connected the fake Clio and run All Cases."""
    from urllib.parse import parse_qs, urlsplit

    em = app.extensions["operate"]
    clio = em.clio
    url = urlsplit(clio.connection.begin("priya.shah", f"{base}/integrations/clio/callback"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    fake = clio.fake_app.test_client()
    answer = fake.post("/oauth/authorize", data={**query, "user_id": str(min(clio.fake.users)), "decision": "allow"})
    back = urlsplit(answer.headers["Location"])
    page.goto(f"{base}{back.path}?{back.query}")  # the callback, on the host the connect was started for
    clio.sync.sync_all(em.identity.principal("demo-client", "priya.shah"), "all")
    page.goto(base + "/settings/integrations")
    page.locator("#clio-sync summary").click()
    page.screenshot(path=str(out / "web-integrations.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 760})
    print(f"wrote {out / 'web-integrations.png'}")


def tools_shots(browser, out: Path) -> None:
    """The implementor's tools, on a copy of the demo served with plan coverage on (`operate serve --coverage`):
    the inception plan's source marked with what its runs took, a step's ctx after each host call, the run saved
    as a test, and a step rerun with an edited ctx beside the original."""
    from emulator.settings import Settings
    from smartplans.testing import START, solution_from_demo

    with tempfile.TemporaryDirectory(prefix="operate-shots-tools-") as tmp:
        solution = solution_from_demo(Path(tmp) / "solution", examples=True)  # a copy: Save as test writes into it
        settings = Settings(
            data_dir=Path(tmp) / "data", solution=solution, clock="virtual", clock_start=START, coverage=True
        )
        with serving(settings) as (app, base):
            item, execution = stage_matter(app)
            em = app.extensions["operate"]
            step = em.smartplans.execution(execution)["steps"][0]["id"]
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
            page.goto(f"{base}/plans/matter-inception")
            top = page.locator("#coverage-summary").bounding_box()
            page.screenshot(path=str(out / "plan-coverage.png"), full_page=True,
                            clip={"x": 0, "y": top["y"] - 10, "width": 1280, "height": 900})  # fmt: skip
            print(f"wrote {out / 'plan-coverage.png'}")
            sign_in(page, base, "hannah.whitfield")
            page.goto(f"{base}/executions/{execution}/steps/{step}")
            page.screenshot(path=str(out / "step-through.png"), full_page=True)
            print(f"wrote {out / 'step-through.png'}")
            page.goto(f"{base}/executions/{execution}")
            page.click("#save-as-test")
            page.wait_for_selector("#web-flash")
            page.screenshot(path=str(out / "save-as-test.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 520})
            print(f"wrote {out / 'save-as-test.png'}")
            rerun = page.locator('details[data-rerun="main"]').first
            rerun.locator("summary").click()
            rerun.locator('textarea[name="ctx"]').fill(json.dumps({"workItemId": MATTER}))
            rerun.get_by_role("button", name="Rerun main").click()
            page.wait_for_selector("#rerun-comparison")
            page.locator("#rerun-comparison").screenshot(path=str(out / "rerun-side-by-side.png"))
            print(f"wrote {out / 'rerun-side-by-side.png'}")
            page.close()


@contextmanager
def serving(settings):
    """The emulator for `settings`, served on a free loopback port: (app, base URL)."""
    from werkzeug.serving import make_server

    from emulator.app import create_app

    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.extensions["operate"].close()


def sign_in(page, base: str, user: str) -> None:
    """As a person does: the sign-in link, then the user's button on the emulator's sign-in page."""
    import re
    from urllib.parse import quote

    page.goto(f"{base}/_harness/signin?next={quote('/', safe='')}")
    page.get_by_role("button", name=re.compile(user)).click()
    page.wait_for_url(base + "/")


def walk_shots(app, page, base: str, out: Path, readme: Path) -> None:
    """Every page of the walk at each of VIEWPORTS into `out`, signed in, with a result open where a page
    has one; the README's pictures of the PMS and the clock are copied from them into `readme`."""
    import shutil
    from urllib.parse import parse_qs, urlsplit

    em = app.extensions["operate"]
    item, execution = stage_matter(app)
    out.mkdir(parents=True, exist_ok=True)
    sign_in(page, base, "priya.shah")
    clio = em.clio
    url = urlsplit(clio.connection.begin("priya.shah", f"{base}/integrations/clio/callback"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    answer = clio.fake_app.test_client().post(
        "/oauth/authorize", data={**query, "user_id": str(min(clio.fake.users)), "decision": "allow"}
    )
    back = urlsplit(answer.headers["Location"])
    page.goto(f"{base}{back.path}?{back.query}")
    clio.sync.sync_all(em.identity.principal("demo-client", "priya.shah"), "all")
    matter = min(clio.fake.matters)

    def clock() -> None:
        sign_in(page, base, "hannah.whitfield")  # she may move the clock
        page.goto(base + "/clock")
        page.locator('button[data-advance="PT20M"]').click()
        page.wait_for_selector("#web-flash")

    def new_work_item() -> None:
        page.goto(base + "/workitems?type=matter-commercial")
        page.locator("#new-work-item summary").click()
        page.locator("#new-work-item").scroll_into_view_if_needed()

    def integrations() -> None:
        sign_in(page, base, "priya.shah")  # an administrator, who may sync
        page.goto(base + "/settings/integrations")
        page.locator("#clio-sync summary").click()
        page.fill("#clio-matter", str(matter))
        page.click("#clio-sync-one")
        page.wait_for_selector("#clio-result")

    def clio_run() -> None:
        page.click("#clio-result >> text=Close")  # the result is modal: the page under it waits
        page.click("#clio-runs >> text=each matter")

    walk = {
        "home": "/",
        "work-items": "/workitems",
        "new-work-item": new_work_item,
        "work-item": f"/workitems/{item}",
        "execution": f"/executions/{execution}",
        "executions": "/executions",
        "plans": "/plans",
        "plan": "/plans/matter-inception",
        "clock": clock,
        "events": "/events",
        "pms": "/pms",
        "pms-demo": "/pms/demo-pms",
        "pms-books": "/pms/demo-pms#books",
        "outbox": "/outbox",
        "widgets": "/widgets",
        "portal": f"/portal/{item}?scenario=ok",
        "widget": f"/widgets/OperateFinance.AgedDebtWidget?workItem={MATTER}&scenario=ok",
        "integrations": integrations,
        "clio-run": clio_run,
    }
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        for name, how in walk.items():
            if callable(how):
                how()
            else:
                page.goto(base + how)
            if name in ("portal", "widget"):  # the widgets' PMS calls answered and drawn
                page.wait_for_selector("html[data-operate-bound]", state="attached", timeout=15_000)
            path = out / f"{name}-{width}.png"
            page.screenshot(path=str(path))
            print(f"wrote {path}")
            if f"{name}-{width}" in README_FROM_WALK:
                shutil.copyfile(path, readme / README_FROM_WALK[f"{name}-{width}"])
                print(f"wrote {readme / README_FROM_WALK[f'{name}-{width}']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the PNGs")
    parser.add_argument("--only", choices=("widgets", "web", "walk", "tools"), help="photograph only these pages")
    parser.add_argument("--walk", action="store_true", help="also every page of the walk at 1400 and 1024 px")
    parser.add_argument("--walk-out", type=Path, default=ROOT / "build" / "pages", help="folder for the walk's PNGs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from emulator.extras import MissingExtra, need

    try:  # drives Chromium through the browser fixtures' helpers: one line says what is missing
        for module in ("pytest", "playwright"):
            need(module, "scripts/screenshots.py", from_clone=True)
    except MissingExtra as exc:
        print(exc, file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    from emulator.settings import Settings
    from smartplans.testing import START
    from widgets.browser import CHROMIUM_ARGS, chromium_path

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        if args.only != "tools":
            with tempfile.TemporaryDirectory(prefix="operate-shots-") as tmp:
                settings = Settings(data_dir=Path(tmp), demo=True, clock="virtual", clock_start=START)
                with serving(settings) as (app, base):
                    page = browser.new_page(viewport={"width": 1280, "height": 760}, locale="en-GB")
                    if args.only not in ("web", "walk"):
                        widget_shots(page, base, args.out)
                        snapshot_diff_shot(page, base, args.out)
                        modes_shot(page, base, args.out)
                    if args.only not in ("widgets", "walk"):
                        web_shots(app, page, base, args.out)
                        clio_shot(app, page, base, args.out)
                    if args.walk or args.only == "walk":
                        walk_shots(app, browser.new_page(locale="en-GB"), base, args.walk_out, args.out)
        if args.only in (None, "tools"):
            tools_shots(browser, args.out)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
