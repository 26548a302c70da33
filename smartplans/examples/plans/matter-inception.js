// Finance integration (seed 002): "Send New Matters to the PMS (Matter Inception)".
// Event driven, Clio Operate -> PMS. Trigger: triggers/matter-inception.json — any work type derived
// from `matter` moving to `matter-open`.
//
// A matter opened with no `pmsReference` is incepted in the PMS (POST /api/matters, idempotent on
// operateId) and the PMS's answer is written back as the attribute `pmsReference` (the form field
// demo-finance.pmsReference). A matter that already has one (incepted in the PMS and sent to
// Operate through the API) is left alone.
//
// ctx.workItemId comes from the trigger's PlanMeta.dataFields (ev.Data.sharedoId).

var PMS = "/api/proxy/demo-pms/_";

// "POST /api/matters failed: 400 BadRequest - feeEarner: no fee earner 'x'" from an http result.
function failure(what, res) {
  var body = res.body;
  var why = "";
  if (body && typeof body === "object") why = body.message || body.title || JSON.stringify(body);
  else if (body) why = String(body);
  return what + " failed: " + res.statusCode + " " + res.status + (why ? " - " + why : "");
}

// One flat graph query over the work item: {path: value}.
function read(workItemId, paths) {
  var res = sharedo.http.post("/api/executionengine/graph/sharedo/query", {
    entityType: "sharedo",
    entityId: workItemId,
    responseType: "flat",
    fields: paths.map(function (p) { return { path: p }; })
  });
  if (!res.success) throw new Error(failure("Reading work item " + workItemId, res));
  return res.body.data;
}

function number(value) {
  if (value === null || value === undefined || String(value).trim() === "") return null;
  var n = Number(value);
  return isFinite(n) ? n : null;
}

function main(ev, ctx, log) {
  var id = ctx.workItemId;
  var m = read(id, [
    "reference",
    "title",
    "form-demo-finance.pmsReference",
    "form-demo-finance.billingArrangements",
    "form-demo-finance.estimatedFees",
    "form-demo-finance.priority",
    "roles.client!1.ods.name",
    "roles.fee-earner!1.ods.id",
    "roles.primary-owner!1.ods.id"
  ]);
  var reference = m["reference"] || id;

  if (m["form-demo-finance.pmsReference"]) {
    log.Information(reference + " already has PMS reference " + m["form-demo-finance.pmsReference"] +
      "; nothing to send to the PMS");
    ctx.pmsReference = m["form-demo-finance.pmsReference"];
    return;
  }
  var clientName = m["roles.client!1.ods.name"];
  if (!clientName) throw new Error(reference + " has no client participant; add one before opening the matter");
  var feeEarner = m["roles.fee-earner!1.ods.id"] || m["roles.primary-owner!1.ods.id"];
  if (!feeEarner) throw new Error(reference + " has no fee earner (or primary owner); the PMS needs one");

  var matter = { operateId: id, title: m["title"], clientName: clientName, feeEarner: feeEarner };
  if (m["form-demo-finance.billingArrangements"]) matter.billingArrangements = m["form-demo-finance.billingArrangements"];
  var priority = number(m["form-demo-finance.priority"]);
  if (priority !== null) matter.priority = Math.round(priority);
  var estimate = number(m["form-demo-finance.estimatedFees"]);
  if (estimate !== null) matter.estimatedFees = estimate;

  var res = sharedo.http.post(PMS + "/api/matters", matter);
  if (!res.success) throw new Error(failure("Incepting " + reference + " in the PMS (POST /api/matters)", res));
  var pmsReference = res.body.pmsReference;
  if (!pmsReference) throw new Error("The PMS answered " + res.status + " with no pmsReference for " + reference);

  var saved = sharedo.http.post("/api/v1/public/workItem/" + id + "/attributes/pmsReference", { value: pmsReference });
  if (!saved.success) throw new Error(failure("Writing pmsReference " + pmsReference + " back to " + reference, saved));

  ctx.pmsReference = pmsReference;
  log.Information(reference + " incepted in the PMS as " + pmsReference + " (client " + res.body.clientId +
    " " + res.body.clientName + ", fee earner " + res.body.feeEarner + ")" +
    (res.status === "OK" ? "; the PMS already had it" : ""));
}

return { main: main };
