// Finance integration (seed 002): "Payments".
// Event driven, Clio Operate -> PMS. Trigger: triggers/payment-approved.json — a payment request
// moving to `payment-request-approved`.
//
// The approved payment request is sent to the PMS as a disbursement on its matter's pmsReference
// (POST /api/matters/{ref}/disbursements, idempotent on operatePaymentRequestId, so a retry never
// duplicates it); the payee is the supplier. The PMS's disbursement id is written back as the
// attribute `pmsDisbursementId`.

var PMS = "/api/proxy/demo-pms/_";
var MATTER = "ancestors!q?type=matter!1.";

function failure(what, res) {
  var body = res.body;
  var why = "";
  if (body && typeof body === "object") why = body.message || body.title || JSON.stringify(body);
  else if (body) why = String(body);
  return what + " failed: " + res.statusCode + " " + res.status + (why ? " - " + why : "");
}

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
  var p = read(id, [
    "reference",
    "title",
    "attributes.amount",
    "attributes.vatAmount",
    "attributes.currency",
    "attributes.supplierInvoiceReference",
    "attributes.pmsDisbursementId",
    "roles.payee!1.ods.id",
    "roles.payee!1.ods.name",
    MATTER + "reference",
    MATTER + "form-demo-finance.pmsReference"
  ]);
  var reference = p["reference"] || id;

  if (p["attributes.pmsDisbursementId"]) {
    log.Information(reference + " is already disbursement " + p["attributes.pmsDisbursementId"] + " in the PMS");
    ctx.pmsDisbursementId = p["attributes.pmsDisbursementId"];
    return;
  }
  var matterRef = p[MATTER + "form-demo-finance.pmsReference"];
  if (!matterRef) {
    throw new Error(reference + ": its matter " + (p[MATTER + "reference"] || "(none)") +
      " has no pmsReference, so the disbursement has nowhere to go in the PMS");
  }
  var payee = p["roles.payee!1.ods.id"];
  if (!payee) throw new Error(reference + " has no payee; the PMS pays disbursements to a supplier");
  var amount = number(p["attributes.amount"]);
  if (amount === null || amount <= 0) {
    throw new Error(reference + ": attribute amount " + JSON.stringify(p["attributes.amount"]) + " is not an amount");
  }

  var disbursement = {
    operatePaymentRequestId: id,
    amount: amount,
    vatAmount: number(p["attributes.vatAmount"]) || 0,
    currency: p["attributes.currency"] || "GBP",
    description: p["title"],
    supplierId: payee
  };
  if (p["attributes.supplierInvoiceReference"]) {
    disbursement.supplierInvoiceReference = p["attributes.supplierInvoiceReference"];
  }

  var res = sharedo.http.post(PMS + "/api/matters/" + encodeURIComponent(matterRef) + "/disbursements", disbursement);
  if (!res.success) {
    throw new Error(failure("Sending " + reference + " to the PMS as a disbursement on " + matterRef, res));
  }
  var disbursementId = res.body.disbursementId;
  if (!disbursementId) throw new Error("The PMS answered " + res.status + " with no disbursementId for " + reference);

  var saved = sharedo.http.post("/api/v1/public/workItem/" + id + "/attributes/pmsDisbursementId",
    { value: disbursementId });
  if (!saved.success) throw new Error(failure("Writing pmsDisbursementId back to " + reference, saved));

  ctx.pmsDisbursementId = disbursementId;
  log.Information(reference + " sent to the PMS as " + disbursementId + " on " + matterRef + ": " +
    res.body.supplierName + ", gross " + res.body.grossAmount + ", " + res.body.status +
    (res.status === "OK" ? " (the PMS already had it)" : ""));
}

return { main: main };
