"""A plan that reads its matter, incepts it in the demo PMS and schedules a chase: the execution the recording,
replay and rerun tests save, replay and rerun."""

from __future__ import annotations

MATTER = "3c000000-0000-4000-8000-000000000010"
OTHER_MATTER = "3c000000-0000-4000-8000-000000000011"
INCEPT = """\
function main(ev, ctx, log) {
  var item = sharedo.http.get("/api/v1/public/workItem/" + ctx.workItemId);
  ctx.title = item.body.workItem.title;
  var sent = sharedo.http.post("/api/proxy/demo-pms/_/api/matters",
      {operateId: ctx.workItemId, title: ctx.title, feeEarner: "PS", clientName: "A client"});
  if (!sent.success) throw new Error("the PMS refused the matter: " + sent.statusCode);
  ctx.pmsReference = sent.body.pmsReference;
  log.Information("incepted as " + ctx.pmsReference);
  trigger.SubProcess("chase").In(2).Days;
}
function chase(ev, ctx, log) { log.Warning("chasing " + ctx.pmsReference); }
return { main: main, chase: chase };
"""
