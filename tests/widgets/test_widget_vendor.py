"""The browser libraries shipped for the widget host page are exactly the pinned npm releases.

Offline checks compare the shipped files with pins.json, package.json and package-lock.json; the registry check runs
`npm ci` (which verifies each tarball's sha512 integrity) and compares every shipped file byte for byte.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers.pinned import (
    assert_lock_names_no_registry_host,
    assert_manifest_lock_and_pins_agree,
    assert_nothing_unpinned,
    assert_shipped_with_sha256,
    npm_ci,
    read_json,
)
from widgets.vendor import SCRIPTS, STYLES, VENDOR_ROOT, load_pins, vendor_file

EXPECTED = {
    "jquery": "3.7.1",
    "knockout": "3.5.1",
    "knockout-mapping": "2.6.0",
    "lodash": "4.17.21",
    "moment": "2.30.1",
    "font-awesome": "4.7.0",
    "bootstrap": "3.4.1",
}


def test_pins_name_the_expected_packages_and_versions():
    pins = load_pins()
    assert {p["package"]: p["version"] for p in pins} == EXPECTED
    assert "_about" in read_json(VENDOR_ROOT, "pins.json")
    for entry in pins:
        assert entry["license"], entry["package"]
        assert entry["integrity"].startswith("sha512-"), entry["package"]
        assert entry["files"], entry["package"]


def test_every_pinned_file_is_shipped_with_its_sha256():
    assert_shipped_with_sha256(VENDOR_ROOT, load_pins(), lambda entry: [*entry["files"], entry["license_file"]])


def test_nothing_unpinned_is_shipped():
    assert_nothing_unpinned(VENDOR_ROOT, load_pins())


def test_every_package_has_a_licence():
    for entry in load_pins():
        assert entry["license_file"]["path"] == "LICENSE"
        licence = (VENDOR_ROOT / entry["package"] / "LICENSE").read_text(encoding="utf-8")
        assert len(licence) > 200, entry["package"]
    fa = (VENDOR_ROOT / "font-awesome" / "LICENSE").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE" in fa and "MIT License" in fa


def test_manifest_lock_and_pins_agree():
    lock_holds = "the lock must hold only the pinned packages (no transitive dependencies)"
    assert_manifest_lock_and_pins_agree(VENDOR_ROOT, load_pins(), lock_holds)


def test_lock_names_no_registry_host():
    assert_lock_names_no_registry_host(VENDOR_ROOT)


def test_host_page_asset_lists_are_pinned_and_ordered():
    assert SCRIPTS[0].startswith("jquery/")
    assert [s.split("/", 1)[0] for s in SCRIPTS] == [
        "jquery",
        "bootstrap",
        "knockout",
        "knockout-mapping",
        "lodash",
        "moment",
    ]
    for url in (*SCRIPTS, *STYLES):
        package, path = url.split("/", 1)
        assert vendor_file(package, path) == (VENDOR_ROOT / url).resolve(), url


@pytest.mark.parametrize(
    ("package", "path"),
    [
        ("jquery", "../knockout/LICENSE"),
        ("jquery", "/etc/passwd"),
        ("jquery", "package.json"),
        ("..", "pins.json"),
        ("left-pad", "index.js"),
        ("font-awesome", "fonts/FontAwesome.otf"),
    ],
)
def test_vendor_file_refuses_unpinned_paths(package, path):
    assert vendor_file(package, path) is None


def test_font_awesome_css_references_only_shipped_fonts():
    css = (VENDOR_ROOT / "font-awesome/css/font-awesome.min.css").read_text(encoding="utf-8")
    refs = {m.split("?")[0].split("#")[0] for m in re.findall(r"url\('([^']+)'\)", css)}
    assert refs, "no font URLs found"
    for ref in refs:
        assert ref.startswith("../fonts/"), ref
        assert vendor_file("font-awesome", ref.removeprefix("../")) is not None, ref


def test_bootstrap_css_references_only_shipped_fonts():
    css = (VENDOR_ROOT / "bootstrap/dist/css/bootstrap.min.css").read_text(encoding="utf-8")
    refs = {m.split("?")[0].split("#")[0] for m in re.findall(r"url\(([^)'\"]+)\)", css)}
    assert refs, "no glyphicon font URLs found"
    for ref in refs:
        assert ref.startswith("../fonts/"), ref
        assert vendor_file("bootstrap", "dist/" + ref.removeprefix("../")) is not None, ref


@pytest.mark.parametrize(
    ("url", "banner"),
    [
        ("jquery/dist/jquery.min.js", r"^/\*! jQuery v3\.7\.1 \|"),
        ("knockout/build/output/knockout-latest.js", r"^/\*!\n \* Knockout JavaScript library v3\.5\.\d+\n"),
        ("knockout-mapping/dist/knockout.mapping.min.js", r"^/\*!\n \* Knockout Mapping plugin v2\.6\.0\n"),
        ("lodash/lodash.min.js", r'var [A-Za-z_$]+,[A-Za-z_$]+="4\.17\.21"'),
        ("moment/min/moment.min.js", r'\.version="2\.30\.1"'),
        ("font-awesome/css/font-awesome.min.css", r"^/\*!\n \*  Font Awesome 4\.7\.0 by @davegandy"),
        ("bootstrap/dist/css/bootstrap.min.css", r"^/\*!\n \* Bootstrap v3\.4\.1 "),
        ("bootstrap/dist/js/bootstrap.min.js", r"^/\*!\n \* Bootstrap v3\.4\.1 "),
    ],
)
def test_shipped_file_carries_its_version_banner(url, banner):
    text = (VENDOR_ROOT / url).read_text(encoding="utf-8")
    assert re.search(banner, text[:200_000]), f"{url}: no match for {banner!r}"


def test_shipped_files_are_byte_for_byte_the_registry_release(tmp_path):
    modules = npm_ci(VENDOR_ROOT, tmp_path)
    compared = 0
    for entry in load_pins():
        installed = json.loads((modules / entry["package"] / "package.json").read_text(encoding="utf-8"))
        assert installed["version"] == entry["version"], entry["package"]
        pairs = [(f["path"], f["path"]) for f in entry["files"]]
        if entry["license_file"]["from_tarball"]:
            pairs.append((entry["license_file"]["path"], entry["license_file"]["from_tarball"]))
        for shipped, upstream in pairs:
            ours = (VENDOR_ROOT / entry["package"] / shipped).read_bytes()
            theirs = (modules / entry["package"] / upstream).read_bytes()
            assert ours == theirs, f"{entry['package']}/{shipped} differs from the release's {upstream}"
            compared += 1
    assert compared == sum(len(e["files"]) + bool(e["license_file"]["from_tarball"]) for e in load_pins())
    assert {e["package"] for e in load_pins()} == set(EXPECTED)  # Bootstrap's CSS, JS, fonts and licence included
