"""Screenshots of the built-in finance widgets for the README, taken from the running code, so they stay true.

    python scripts/screenshots.py [--out docs/images]

Serves the demo solution (virtual clock on the plugin's start time, demo PMS in process) on a loopback
port and photographs each widget and the demo matter's portal page in Debian's chromium.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATTER = "3c000000-0000-4000-8000-000000000001"
SHOTS = {
    "wip-widget.png": f"/widgets/OperateFinance.WipWidget?workItem={MATTER}&scenario=ok",
    "aged-debt-widget.png": f"/widgets/OperateFinance.AgedDebtWidget?workItem={MATTER}&scenario=ok",
    "matter-portal.png": f"/portal/{MATTER}?scenario=ok",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the PNGs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from emulator.app import create_app
    from emulator.settings import Settings
    from smartplans.testing import START
    from widgets.testing import CHROMIUM_ARGS, chromium_path

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="operate-shots-") as tmp:
        app = create_app(Settings(data_dir=Path(tmp), demo=True, clock="virtual", clock_start=START))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 760}, locale="en-GB")
                for name, path in SHOTS.items():
                    page.goto(base + path)
                    page.wait_for_selector("html[data-operate-bound]", state="attached", timeout=15_000)
                    if "portal" in name:
                        page.screenshot(path=str(args.out / name), clip={"x": 0, "y": 0, "width": 1280, "height": 620})
                    else:
                        if "aged" in name:  # show a bucket's invoices, as a click would
                            page.locator('.of-bucket[data-bucket="31-60"] button').click()
                        page.locator("section.op-widget").first.screenshot(path=str(args.out / name))
                    print(f"wrote {args.out / name}")
                browser.close()
        finally:
            server.shutdown()
            app.extensions["operate"].close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
