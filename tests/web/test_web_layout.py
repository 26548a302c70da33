"""The pages look finished, in a real browser (Debian's chromium) at 1400 × 1000 and at 1024 × 768: a
newcomer's walk through every page (signed in, a matter opened, the clock moved, Clio connected, an
Individual Case result open) overflows nothing sideways, no text escapes its card, no header or notice
lies on another, the navigation is one line at 1400 px; and the details a person reads are right: the
event count is the rows shown, "No comments", a matter type (not Invoice) in the new-work-item form, a
modal Individual Case result over a backdrop, the PMS's books with human headers and short ids.
What the pages say and do: tests/web/test_web_pages.py, tests/web/test_web_clio.py."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import web_support
from tests.helpers.web_support import connect_clio_in_browser, importable, sign_in_browser

web_solution_dir = web_support.web_solution_dir  # the fixtures: every test here runs on that solution
_use_web_solution = web_support._use_web_solution
SIZES = [(1400, 1000), (1024, 768)]
WAIT_MS = 15_000

# What a person would call broken, measured: the page wider than the window; a card, table or dialog
# whose content is wider than its box (unless a box of its own scrolls it); two headers or notices on
# top of each other (the navigation's entries, the emulator time, a page's title and notes, flash notes).
LAYOUT_PROBLEMS = """() => {
  const out = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\\s+/).join(".") : "") +
    " «" + (e.innerText || "").trim().slice(0, 40) + "»";
  const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const de = document.documentElement;
  if (de.scrollWidth > de.clientWidth) out.push(`the page is ${de.scrollWidth}px wide in a ${de.clientWidth}px window`);
  const scrolled = (e) => {
    for (let a = e; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === "auto" || o === "scroll") return true;
    }
    return false;
  };
  for (const e of document.querySelectorAll(".web-card, .op-card, table, dialog[open], .op-nav")) {
    if (shown(e) && e.scrollWidth > e.clientWidth + 1 && !scrolled(e))
      out.push(`${name(e)}: its content is ${e.scrollWidth}px wide in a ${e.clientWidth}px box`);
  }
  const marks = [...document.querySelectorAll(
    ".op-nav > *, .web-clock, main h1, main > .op-note, .op-subtitle, #web-flash, main > .op-banner, .web-card > h2"
  )].filter(shown);
  for (let i = 0; i < marks.length; i++) for (let j = i + 1; j < marks.length; j++) {
    const a = marks[i], b = marks[j];
    if (a.contains(b) || b.contains(a)) continue;
    const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
    const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
    const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
    if (x > 1 && y > 1) out.push(`${name(a)} overlaps ${name(b)}`);
  }
  return out;
}"""

NAV_LINES = """() => {
  const items = [...document.querySelectorAll(".op-nav > *")].filter((e) => e.getClientRects().length);
  const tops = new Set(items.map((e) => Math.round(e.getBoundingClientRect().top / 4)));
  const wrapped = items.filter((e) => e.getClientRects().length > 1 ||
    e.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(e).lineHeight || "20"));
  return {rows: tops.size, wrapped: wrapped.map((e) => e.innerText)};
}"""


def stage(operate) -> dict[str, str]:
    """A matter opened (its inception plan calls the demo PMS): what the walk's pages show."""
    participants = {"client": web_support.CLIENT_ORG, "fee-earner": web_support.FEE_EARNER}
    item = operate.create_work_item("matter-commercial", "Northgate Logistics - lease", participants=participants)
    operate.move(item["id"], "matter-open")
    (execution,) = operate.executions(plan="matter-inception", sharedo_id=item["id"])
    return {"item": item["id"], "execution": execution["id"]}


def walk(operate, harness_page, clio_integration) -> Any:
    """Every page of the walk, as (name, a function that opens it); the clock is moved by its button, the
    Individual Case synced through the form so its result is open."""
    staged = stage(operate)
    page = harness_page.page
    base = harness_page.base_url

    def go(path: str):
        return lambda: page.goto(base + path)

    def clock() -> None:
        sign_in_browser(harness_page, "hannah.whitfield", "/clock")  # she may move the clock
        page.locator('button[data-advance="PT20M"]').click()
        page.wait_for_selector("#web-flash")

    def integrations() -> None:
        sign_in_browser(harness_page, "priya.shah", "/settings/integrations")
        if page.get_attribute("#clio", "data-state") != "connected":
            connect_clio_in_browser(page, base)
            page.wait_for_url(f"{base}/settings/integrations")
        page.click("#clio-sync summary")
        page.fill("#clio-matter", str(importable(operate, clio_integration)["id"]))
        page.click("#clio-sync-one")
        page.wait_for_selector("#clio-result[open]", timeout=WAIT_MS)

    def clio_run() -> None:
        page.click("#clio-result >> text=Close")  # the result is modal: the page under it waits
        page.click("#clio-runs >> text=each matter")

    return [
        ("home", go("/")),
        ("work items", go("/workitems")),
        ("a matter", go(f"/workitems/{staged['item']}")),
        ("an execution", go(f"/executions/{staged['execution']}")),
        ("executions", go("/executions")),
        ("plans", go("/plans")),
        ("a plan", go("/plans/matter-inception")),
        ("clock, just moved", clock),
        ("events", go("/events")),
        ("PMS", go("/pms")),
        ("the demo PMS", go("/pms/demo-pms")),
        ("outbox", go("/outbox")),
        ("widget gallery", go("/widgets")),
        ("the matter's portal page", go(f"/portal/{staged['item']}?scenario=ok")),
        ("a widget", go(f"/widgets/OperateFinance.WipWidget?workItem={staged['item']}&scenario=ok")),
        ("Settings › Integrations, a result open", integrations),
        ("a Clio sync's matters", clio_run),
    ]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_no_page_of_the_walk_overflows_or_lies_on_another(operate, harness_page, clio, width, height):  # noqa: F811
    page = harness_page.page
    page.set_viewport_size({"width": width, "height": height})
    sign_in_browser(harness_page, "priya.shah", "/")
    found = {}
    for name, opening in walk(operate, harness_page, clio):
        opening()
        problems = page.evaluate(LAYOUT_PROBLEMS)
        if problems:
            found[name] = problems
    assert not found, f"at {width} × {height}:\n" + "\n".join(f"{k}: {v}" for k, v in found.items())


def test_the_navigation_is_one_line_at_1400_when_signed_in_and_tidy_at_1024(operate, harness_page):
    page = sign_in_browser(harness_page, "hannah.whitfield", "/settings/integrations")
    page.set_viewport_size({"width": 1400, "height": 1000})
    for path in ("/settings/integrations", "/widgets"):
        page.goto(harness_page.base_url + path)
        assert page.evaluate(NAV_LINES) == {"rows": 1, "wrapped": []}, path
    page.set_viewport_size({"width": 1024, "height": 768})
    for path in ("/settings/integrations", "/widgets"):
        page.goto(harness_page.base_url + path)
        lines = page.evaluate(NAV_LINES)
        assert lines["wrapped"] == [] and lines["rows"] <= 2, (path, lines)  # a second row, no entry broken


def test_the_event_count_is_the_rows_the_stream_shows_as_new_events_arrive(operate, harness_page):
    page = harness_page.page
    page.goto(f"{harness_page.base_url}/events")
    page.wait_for_selector("#web-live:not([hidden])")
    before = page.locator("#events tbody tr").count()
    assert page.inner_text("#events-count") == str(before)
    stage(operate)  # new events arrive on the open page
    newest = operate.events()[-1]["number"]
    page.wait_for_selector(f'#events tr[data-number="{newest}"]', timeout=WAIT_MS)
    rows = page.locator("#events tbody tr").count()
    assert rows > before
    page.wait_for_function(f"document.getElementById('events-count').textContent === '{rows}'", timeout=WAIT_MS)
    assert re.search(rf"\b{rows} in the stream\b", page.inner_text("h1"))


def test_a_work_item_with_no_comments_says_so(operate, harness_page):
    page = harness_page.page
    page.goto(f"{harness_page.base_url}/workitems/{stage(operate)['item']}")
    comments = page.inner_text("#comments")
    assert "No comments" in comments and "None." not in comments


def test_the_new_work_item_form_defaults_to_a_matter_type_not_invoice(operate, harness_page):
    page = harness_page.page
    page.goto(f"{harness_page.base_url}/workitems?type=matter-private-client")
    assert page.locator("#new-work-item select[name=type]").input_value() == "matter-private-client"
    page.goto(f"{harness_page.base_url}/workitems")
    chosen = page.locator("#new-work-item select[name=type]").input_value()
    assert chosen.startswith("matter-"), chosen  # most of a law firm's work items are matters


def test_the_individual_case_result_is_a_modal_dialog_over_a_backdrop(operate, harness_page, clio):  # noqa: F811
    page = sign_in_browser(harness_page, "priya.shah", "/settings/integrations")
    connect_clio_in_browser(page, harness_page.base_url)
    page.wait_for_url(f"{harness_page.base_url}/settings/integrations")
    page.click("#clio-sync summary")
    page.fill("#clio-matter", str(importable(operate, clio)["id"]))
    page.click("#clio-sync-one")
    page.wait_for_selector("#clio-result[open]", timeout=WAIT_MS)
    assert page.evaluate("document.getElementById('clio-result').matches(':modal')")
    backdrop = page.evaluate("getComputedStyle(document.getElementById('clio-result'), '::backdrop').backgroundColor")
    assert backdrop not in ("rgba(0, 0, 0, 0)", "transparent"), backdrop
    # the table under it cannot be clicked while it is open
    assert page.evaluate("document.elementFromPoint(5, innerHeight - 5).closest('#clio-runs') === null")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_integrations_form_shows_its_whole_placeholder_labels_above_fields_and_empty_runs_say_so(
    operate,
    harness_page,
    clio,  # noqa: F811
    width,
    height,
):
    harness_page.page.set_viewport_size({"width": width, "height": height})
    page = sign_in_browser(harness_page, "priya.shah", "/settings/integrations")
    connect_clio_in_browser(page, harness_page.base_url)
    page.wait_for_url(f"{harness_page.base_url}/settings/integrations")
    principal = operate.emulator.identity.principal("demo-client", "priya.shah")
    clio.sync.sync_all(principal, "all")
    clio.sync.sync_all(principal, "all")  # nothing changed since: nothing to report
    page.reload()
    page.click("#clio-sync summary")
    fits = page.evaluate("""() => {
      const input = document.getElementById("clio-matter"), style = getComputedStyle(input);
      const ctx = document.createElement("canvas").getContext("2d");
      ctx.font = style.font;
      const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      return ctx.measureText(input.placeholder).width <= room;
    }""")
    assert fits, "the Integration ID's placeholder is cut off"
    for field in ("practiceAreas", "stages"):
        above = page.evaluate(
            """(name) => {
          const area = document.querySelector(`textarea[name=${name}]`), label = area.closest("label");
          const range = document.createRange();
          range.selectNodeContents(label.firstChild);
          return range.getBoundingClientRect().bottom <= area.getBoundingClientRect().top + 1;
        }""",
            field,
        )
        assert above, f"the label of {field} is not above its text area"
    cells = page.locator("#clio-runs tbody tr td:nth-child(5)").all_inner_texts()
    assert len(cells) >= 2 and all(c.strip() for c in cells), cells
    assert any(c.strip() in ("—", "nothing to report") for c in cells), cells


def test_the_pms_books_have_human_headers_and_ids_on_one_line(operate, harness_page):
    stage(operate)
    page = harness_page.page
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{harness_page.base_url}/pms/demo-pms")
    headers = page.locator('table[data-book="matters"] th').all_inner_texts()
    assert "PMS reference" in headers and "Operate work item" in headers, headers
    assert [h for h in headers if re.search(r"[a-z][A-Z]", h)] == [], headers  # no camelCase field names
    link = page.locator('table[data-book="matters"] td a[href^="/workitems/"]').first
    full = link.get_attribute("href").rsplit("/", 1)[1]
    assert link.get_attribute("title") == full  # the whole id, on hover
    line = float(link.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert link.bounding_box()["height"] < 1.6 * line  # one line, not four
