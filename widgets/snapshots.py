"""Visual snapshots of widgets and portal pages: `page.assert_snapshot("name")` on a HarnessPage.

What Playwright's `toHaveScreenshot` does, for the `widget_page` / `portal_page` fixtures:

- the baseline is a PNG beside the test file: `__snapshots__/<test file stem>/<name>.png` (the layout Jest and
  Storybook's test runner use; Playwright's own is `<file>-snapshots/`);
- the page is captured when it is still: two screenshots in a row with the same bytes, animations and
  transitions off, the caret hidden, device scale 1, the fonts of one pinned package (below);
- it is compared pixel by pixel with pixelmatch's measure: a pixel differs when its colour distance in YIQ space
  is above `threshold` (0..1, 0.2 by default, as in Playwright) and the test fails when more than
  `max_diff_pixels` differ (0 by default). Anti-aliased pixels are not told apart (stricter than pixelmatch);
- on a difference it writes `<name>-expected.png`, `<name>-actual.png` and `<name>-diff.png` (the expected
  image faded to grey, each differing pixel red) under `snapshot-failures/<test file stem>/<test name>/` in the
  rootdir, and the failure message names the three paths;
- a missing baseline is written and the test fails saying so; `--operate-update-snapshots` writes missing
  and differing baselines and passes (a baseline that still matches is left as it is, so git sees no churn).

Fonts: Chromium is started with a fontconfig file that offers only Debian's `fonts-dejavu-core` (DejaVu Sans,
Serif, Sans Mono; the generic families map onto them) plus the page's own web fonts (the vendored Font
Awesome). Without that package (another OS, OPERATE_CHROMIUM elsewhere) the system's fonts are used. Either
way a baseline depends on the OS, the Chromium build and the fonts: make and check baselines on one machine
image (CI's), as Playwright advises.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

SNAPSHOTS_DIR = "__snapshots__"
FAILURES_DIR = "snapshot-failures"
UPDATE_OPTION = "--operate-update-snapshots"
DEFAULT_THRESHOLD = 0.2  # Playwright's default for toHaveScreenshot
MAX_YIQ_DELTA = 35215.0  # pixelmatch: the largest possible YIQ distance; threshold t allows t² of it
STILL_TRIES = 5  # screenshots taken until two in a row are the same bytes (Playwright does the same)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Injected before capturing: no transitions or animations (Playwright's animations="disabled" also ends
# running ones), no caret, no smooth scrolling.
STILL_CSS = (
    "*, *::before, *::after { transition: none !important; animation: none !important;"
    " caret-color: transparent !important; scroll-behavior: auto !important; }"
)
# The harness's own console panel is fixed to the foot of the viewport: on a phone it would cover the portal.
HARNESS_ONLY_CSS = "#op-console { visibility: hidden !important; }"
# The pinned font package (Debian's fonts-dejavu-core; scripts/install-chromium installs it).
FONT_PACKAGE = "fonts-dejavu-core"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # shared with fonts-dejavu-extra: only these files are used
FONT_FILES = (  # `dpkg -L fonts-dejavu-core`
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
)
FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<!-- operate-toolkit: Chromium sees only {package}, so a snapshot does not depend on other installed fonts -->
<fontconfig>
  <dir>{font_dir}</dir>
  <cachedir>{cache_dir}</cachedir>
  <alias binding="same"><family>sans-serif</family><prefer><family>DejaVu Sans</family></prefer></alias>
  <alias binding="same"><family>serif</family><prefer><family>DejaVu Serif</family></prefer></alias>
  <alias binding="same"><family>monospace</family><prefer><family>DejaVu Sans Mono</family></prefer></alias>
  <alias binding="same"><family>system-ui</family><prefer><family>DejaVu Sans</family></prefer></alias>
  <alias binding="same"><family>sans</family><prefer><family>DejaVu Sans</family></prefer></alias>
  <!-- any other family not found: sans-serif, as the system's 49-sansserif.conf does -->
  <match target="pattern">
    <test qual="all" name="family" compare="not_eq"><string>sans-serif</string></test>
    <test qual="all" name="family" compare="not_eq"><string>serif</string></test>
    <test qual="all" name="family" compare="not_eq"><string>monospace</string></test>
    <edit name="family" mode="append_last"><string>sans-serif</string></edit>
  </match>
  <match target="font">
    <edit name="antialias" mode="assign"><bool>true</bool></edit>
    <edit name="hinting" mode="assign"><bool>true</bool></edit>
    <edit name="hintstyle" mode="assign"><const>hintslight</const></edit>
    <edit name="rgba" mode="assign"><const>none</const></edit>
  </match>
</fontconfig>
"""


def add_options(parser: pytest.Parser) -> None:
    parser.getgroup("operate").addoption(
        UPDATE_OPTION,
        action="store_true",
        default=False,
        help="write the baselines of assert_snapshot that are missing or differ (__snapshots__/ beside the tests)",
    )


def font_environment() -> dict[str, str]:
    """Environment for Chromium: FONTCONFIG_FILE naming a config with only the pinned font package's fonts,
    or nothing when that package is not installed (then the system's fonts are used)."""
    if not all((FONT_DIR / name).is_file() for name in FONT_FILES):
        return {}
    home = Path(tempfile.gettempdir()) / "operate-fonts"
    fonts = home / FONT_PACKAGE  # links to the package's files alone (its folder may hold other packages' too)
    fonts.mkdir(parents=True, exist_ok=True)
    for name in FONT_FILES:
        link = fonts / name
        if not link.exists():
            with contextlib.suppress(FileExistsError):  # another xdist worker made it first
                link.symlink_to(FONT_DIR / name)
    text = FONTS_CONF.format(package=FONT_PACKAGE, font_dir=fonts, cache_dir=home / "cache")
    conf = home / f"fonts-{hashlib.sha256(text.encode()).hexdigest()[:12]}.conf"
    if not conf.exists():
        partial = conf.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, "utf-8")
        partial.replace(conf)  # atomic: xdist workers may write it at once
    return {"FONTCONFIG_FILE": str(conf)}


# ---------------------------------------------------------------------------------------------- comparing


@dataclass
class Comparison:
    """The outcome of comparing two PNGs: how many pixels differ, and the diff image (PNG bytes)."""

    differing: int
    total: int
    size_note: str  # "" when both images have the same size
    diff_png: bytes


def _imaging() -> tuple[Any, Any]:
    """numpy and Pillow (the `browser` extra), or one line saying what to install."""
    from emulator.extras import need

    return need("numpy", "assert_snapshot"), need("PIL.Image", "assert_snapshot")


def _pixels(png: bytes) -> Any:
    np, Image = _imaging()
    with Image.open(BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"), dtype=np.uint8)


def _yiq(rgba: Any) -> tuple[Any, Any, Any]:
    """Pixelmatch's YIQ of RGBA pixels blended onto white (float32: exact enough, and twice as fast)."""
    alpha = rgba[..., 3].astype("float32") / 255.0
    r, g, b = (255.0 + (rgba[..., c].astype("float32") - 255.0) * alpha for c in range(3))
    y = r * 0.29889531 + g * 0.58662247 + b * 0.11448223
    i = r * 0.59597799 - g * 0.27417610 - b * 0.32180189
    q = r * 0.21147017 - g * 0.52261711 + b * 0.31114694
    return y, i, q


def _check_threshold(threshold: Any) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"assert_snapshot: threshold must be between 0 and 1 (a colour distance), not {threshold!r}")


def compare(expected_png: bytes, actual_png: bytes, threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    """Pixelmatch's measure (YIQ distance over MAX_YIQ_DELTA * threshold²), vectorised with numpy and worked
    out only for pixels whose bytes differ. Images of different sizes are compared on the larger canvas;
    pixels only one of them has count as differing."""
    np, Image = _imaging()
    _check_threshold(threshold)
    expected, actual = _pixels(expected_png), _pixels(actual_png)
    height = max(expected.shape[0], actual.shape[0])
    width = max(expected.shape[1], actual.shape[1])
    size_note = ""
    if expected.shape != actual.shape:
        size_note = (
            f"expected an image {expected.shape[1]}x{expected.shape[0]} px, received "
            f"{actual.shape[1]}x{actual.shape[0]} px"
        )

    def padded(a: Any) -> Any:
        canvas = np.zeros((height, width, 4), dtype=np.uint8)
        canvas[: a.shape[0], : a.shape[1]] = a
        return canvas

    inside = np.zeros((height, width), dtype=bool)
    inside[: min(expected.shape[0], actual.shape[0]), : min(expected.shape[1], actual.shape[1])] = True
    e, a = padded(expected), padded(actual)
    candidates = np.any(e != a, axis=2) & inside
    ey, ei, eq = _yiq(e[candidates])
    ay, ai, aq = _yiq(a[candidates])
    delta = 0.5053 * (ey - ay) ** 2 + 0.299 * (ei - ai) ** 2 + 0.1957 * (eq - aq) ** 2
    changed = ~inside
    changed[candidates] = delta > MAX_YIQ_DELTA * threshold * threshold
    # The diff image, as pixelmatch draws it: the expected image in faded grey, changed pixels red.
    grey = (255.0 + (_yiq(e)[0] - 255.0) * 0.1).round().astype(np.uint8)
    out = np.repeat(grey[..., None], 3, axis=2)
    out[changed] = (255, 0, 0)
    buffer = BytesIO()
    Image.fromarray(out, "RGB").save(buffer, "PNG")
    return Comparison(int(changed.sum()), height * width, size_note, buffer.getvalue())


# ---------------------------------------------------------------------------------------------- capturing


def default_selector(page: Any) -> str | None:
    """What a snapshot shows when no selector is given: a widget page's widget (its section, chrome
    included), a portal page's portal (without the harness's console panel); else the whole viewport."""
    path = page.page.url[len(page.base_url) :]
    if path.startswith("/widgets/"):
        return "section.op-widget >> nth=0"
    if path.startswith("/portal/"):
        return ".op-portal"
    return None


def capture(page: Any, selector: str | None = None, *, full_page: bool = False, mask: list[str] | None = None) -> bytes:
    """PNG bytes of the page (or the element at `selector`) when it is still: fonts loaded, animations and
    transitions off, no caret, CSS pixels (device scale 1); retaken until two shots in a row agree."""
    pw = page.page
    pw.evaluate(
        """css => { if (document.getElementById("operate-still")) return;
        const style = document.createElement("style"); style.id = "operate-still"; style.textContent = css;
        document.head.appendChild(style); }""",
        STILL_CSS,
    )
    pw.evaluate("document.fonts.ready.then(() => true)")
    target = pw.locator(selector if selector is not None else (default_selector(page) or "html")).first
    options: dict[str, Any] = {"animations": "disabled", "caret": "hide", "scale": "css", "type": "png"}
    options["style"] = HARNESS_ONLY_CSS  # while capturing only: later checks still read the console panel
    if mask:
        options["mask"] = [pw.locator(m) for m in mask]
    shoot = (lambda: pw.screenshot(full_page=True, **options)) if full_page else (lambda: target.screenshot(**options))
    previous = shoot()
    for _ in range(STILL_TRIES):
        current = shoot()
        if current == previous:
            return current
        previous = current
    raise AssertionError(
        f"assert_snapshot: the page did not keep still: {STILL_TRIES + 1} screenshots in a row differed "
        "(something keeps changing: a timer, a video, a canvas drawn in a loop; mask it with mask=[selector])"
    )


# ---------------------------------------------------------------------------------------------- asserting


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "test"


def baseline_path(test_file: Path, name: str) -> Path:
    return test_file.parent / SNAPSHOTS_DIR / test_file.stem / f"{name}.png"


def failure_dir(node: pytest.Item) -> Path:
    return node.config.rootpath / FAILURES_DIR / _safe(node.path.stem) / _safe(node.name)


def _write_whole(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename: a second run (an xdist worker, another `operate test`)
    reading the baseline meanwhile sees the old PNG or the new one, never half of one."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(path)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name.removesuffix(".png")):
        raise ValueError(
            f"assert_snapshot: a snapshot name is letters, digits, '.', '_' and '-' (it names a file): {name!r}"
        )
    return name.removesuffix(".png")


def assert_snapshot(
    page: Any,
    name: str,
    *,
    selector: str | None = None,
    full_page: bool = False,
    mask: list[str] | None = None,
    max_diff_pixels: int = 0,
    threshold: float = DEFAULT_THRESHOLD,
) -> None:
    """Compare the page with its baseline `__snapshots__/<test file stem>/<name>.png`; see the module."""
    name = _check_name(name)
    if isinstance(max_diff_pixels, bool) or not isinstance(max_diff_pixels, int) or max_diff_pixels < 0:
        raise ValueError(f"assert_snapshot: max_diff_pixels must be a whole number, 0 or more, not {max_diff_pixels!r}")
    _check_threshold(threshold)  # before a first baseline is written with a tolerance that could never apply
    node = getattr(page, "node", None)  # the test (or scenario) the page belongs to
    if node is None:
        raise RuntimeError("assert_snapshot needs a page from the widget_page / portal_page / harness_page fixtures")
    modes = dict(getattr(page, "modes", None) or {})  # widget_page(..., locale=, currency=, viewport=)
    name = "-".join([name, *modes.values()])  # one baseline per mode: wip-ok-fr-FR-EUR-phone.png
    baseline = baseline_path(node.path, name)
    update = bool(node.config.getoption(UPDATE_OPTION.lstrip("-").replace("-", "_")))
    actual = capture(page, selector, full_page=full_page, mask=mask)
    failures = failure_dir(node)
    written = {kind: failures / f"{name}-{kind}.png" for kind in ("expected", "actual", "diff")}
    for stale in written.values():  # from an earlier failing run
        stale.unlink(missing_ok=True)

    if not baseline.is_file():
        baseline.parent.mkdir(parents=True, exist_ok=True)
        _write_whole(baseline, actual)
        if update:
            return
        pytest.fail(
            f"snapshot {name!r} had no baseline: wrote {baseline} from this run; look at it, commit it and run "
            f"again (or run with {UPDATE_OPTION} to write missing baselines without failing; "
            f"`operate test --update-snapshots` passes it on)",
            pytrace=False,
        )

    expected = baseline.read_bytes()
    if expected == actual:
        return
    result = compare(expected, actual, threshold)
    if result.differing <= max_diff_pixels and not result.size_note:
        return
    if update:
        _write_whole(baseline, actual)
        return
    failures.mkdir(parents=True, exist_ok=True)
    written["expected"].write_bytes(expected)
    written["actual"].write_bytes(actual)
    written["diff"].write_bytes(result.diff_png)
    size = f" ({result.size_note})" if result.size_note else ""
    pytest.fail(
        f"snapshot {name!r} differs from its baseline: {result.differing} of {result.total} pixels differ{size} "
        f"(max_diff_pixels={max_diff_pixels}, threshold={threshold})\n"
        f"  baseline: {baseline}\n"
        f"  expected: {written['expected']}\n"
        f"  actual:   {written['actual']}\n"
        f"  diff:     {written['diff']}\n"
        f"if the change is intended, rewrite the baseline with {UPDATE_OPTION}",
        pytrace=False,
    )
