"""Pinned browser libraries for the widget host page, shipped inside the package.

Operate's widgets expect jQuery, Bootstrap 3 (its CSS and its jQuery plugins: dropdowns, alerts, modals, ``.hidden``),
Knockout 3.5 with knockout-mapping, lodash, moment and Font Awesome 4.7 (v4 class names such as ``fa fa-gbp``) on the
page. They are shipped here, from pinned npm releases, so that the host page
works offline and never depends on a CDN.

Layout: ``widgets/static/vendor/<package>/<path>``, where ``<path>`` is the file's path inside the npm tarball (so
Font Awesome's ``../fonts/`` URLs resolve), plus ``<package>/LICENSE``. ``pins.json`` beside them records each
package's version, SPDX licence, tarball integrity (from ``package-lock.json``) and the sha256 of every shipped file;
``tests/widgets/test_widget_vendor.py`` checks the files against the pins offline and against the registry with
``npm ci``.

The host page serves ``widgets/static/vendor/<package>/<path>`` at URL ``/_harness/vendor/<package>/<path>``; use
:func:`vendor_file` to resolve such a request, so that only pinned files are ever served. :data:`SCRIPTS` and
:data:`STYLES` are the URL paths, relative to that vendor root, that the page must load, in order.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

VENDOR_ROOT: Path = Path(__file__).resolve().parent / "static" / "vendor"
"""Directory holding the vendored packages, ``pins.json`` and the npm manifest and lock."""

URL_PREFIX = "/_harness/vendor/"
"""Where the host page mounts :data:`VENDOR_ROOT`."""

SCRIPTS: tuple[str, ...] = (
    "jquery/dist/jquery.min.js",  # first: knockout and the widgets pick up window.jQuery
    "bootstrap/dist/js/bootstrap.min.js",  # needs window.jQuery; adds $.fn.dropdown/modal/alert and their data-api
    "knockout/build/output/knockout-latest.js",
    "knockout-mapping/dist/knockout.mapping.min.js",  # needs window.ko
    "lodash/lodash.min.js",
    "moment/min/moment.min.js",
)
"""Script URL paths relative to the vendor root, in the order a host page must load them."""

STYLES: tuple[str, ...] = (
    "bootstrap/dist/css/bootstrap.min.css",  # first: the harness's own harness.css and the widgets' styles win over it
    "font-awesome/css/font-awesome.min.css",
)
"""Stylesheet URL paths relative to the vendor root."""


class PinnedFolder:
    """A folder of files shipped from pinned npm releases (its `pins.json`): only the files the pins list resolve,
    so a request cannot reach `package.json`, the lock, or anything outside the folder by `..` or absolute paths.
    The host page's libraries are one (`VENDOR`), the accessibility checker another (widgets/accessibility.py)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @cached_property
    def _entries(self) -> tuple[dict[str, Any], ...]:
        return tuple(json.loads((self.root / "pins.json").read_text(encoding="utf-8"))["packages"])

    def load_pins(self) -> list[dict[str, Any]]:
        """The pinned packages, one dict per package (a fresh copy each call)."""
        return [json.loads(json.dumps(entry)) for entry in self._entries]

    def file(self, package: str, path: str) -> Path | None:
        """The shipped file for `package`/`path`, or None unless it is pinned and inside the folder."""
        for entry in self._entries:
            if entry["package"] == package and path in pinned_paths(entry):
                candidate = (self.root / package / path).resolve()
                return candidate if candidate.is_relative_to(self.root) and candidate.is_file() else None
        return None


def pinned_paths(entry: dict[str, Any]) -> list[str]:
    """Paths, relative to the package's directory, of every file shipped for one pins entry (licences included)."""
    paths = [f["path"] for f in entry["files"]]
    if entry.get("license_file"):
        paths.append(entry["license_file"]["path"])
    return paths + [f["path"] for f in entry.get("license_files", ())]


VENDOR = PinnedFolder(VENDOR_ROOT)


def load_pins() -> list[dict[str, Any]]:
    """The host page's pinned packages from `pins.json`."""
    return VENDOR.load_pins()


def vendor_file(package: str, path: str) -> Path | None:
    """The host page's shipped file for `package`/`path`, or None unless it is pinned (PinnedFolder.file)."""
    return VENDOR.file(package, path)
