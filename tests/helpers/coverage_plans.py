"""A plan with a branch the coverage tests never take, shared by the coverage report and plan page tests."""

from __future__ import annotations

MATTER = "3c000000-0000-4000-8000-000000000010"
OTHER_MATTER = "3c000000-0000-4000-8000-000000000011"
# Line 7 (the else arm) never runs in these tests: the work item is always found.
PLAN = """\
// reads the matter; a missing one fails the step
function main(ev, ctx, log) {
  var item = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);
  if (item.success) {
    ctx.reference = item.body.workItem.reference;
  } else {
    throw new Error("cannot read " + ctx.workItemId);
  }
  if (ctx.workItemId === "MATTER_ID") log.Information("first " + ctx.reference);
  else log.Information("other " + ctx.reference);
}
return { main: main };
""".replace("MATTER_ID", MATTER)
