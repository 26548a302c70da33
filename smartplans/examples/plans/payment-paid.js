// Finance integration (seed 002): "Update Payments with Payment details".
// API, PMS -> Clio Operate. The PMS reports a payment it has made through Operate's public API
// (PUT /api/v1/public/finance/paymentRequest/{id} {paymentDetails}), which raises
// `payment-details-updated`. Trigger: triggers/payment-paid.json.
//
// This plan moves the payment request to `payment-request-paid` and logs the payment reference.
// Only an approved request can be paid; one already paid is left alone (the PMS may resend).

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

function main(ev, ctx, log) {
  var id = ctx.workItemId;
  var p = read(id, ["reference", "phase.systemName", "attributes.pmsDisbursementId"]);
  var reference = p["reference"] || id;
  var paid = "paid: reference " + ctx.paymentReference + ", amount " + ctx.paidAmount + ", on " + ctx.paidDate;
  var phase = p["phase.systemName"];

  if (phase === "payment-request-paid") {
    log.Information(reference + " is already paid; payment details updated (" + paid + ")");
    return;
  }
  if (phase !== "payment-request-approved") {
    throw new Error(reference + " is in " + phase + "; only an approved payment request can be marked paid (" +
      paid + ")");
  }
  var moved = sharedo.http.put("/api/v1/public/workItem/" + id + "/phase", {
    toPhaseSystemName: "payment-request-paid",
    reasonText: "Paid by the PMS, reference " + ctx.paymentReference
  });
  if (!moved.success) throw new Error(failure("Moving " + reference + " to payment-request-paid", moved));
  log.Information(reference + " " + paid + (p["attributes.pmsDisbursementId"] ?
    " (PMS disbursement " + p["attributes.pmsDisbursementId"] + ")" : "") + "; moved to payment-request-paid");
}

return { main: main };
