// Finance integration (seed 002): "Send Invoices to the PMS".
// Event driven, Clio Operate -> PMS. Trigger: triggers/invoice-status.json — an invoice's phase
// changing to issued, part-paid, paid or cancelled.
//
// The first time an invoice is issued (no `pmsInvoiceReference` yet) it is posted to its matter's
// pmsReference (POST /api/matters/{ref}/invoices, idempotent on operateInvoiceId) and the PMS's
// invoice id is written back as `pmsInvoiceReference`. After that each phase change is sent as a
// status (PUT /api/invoices/{id}/status), with the invoice's amountPaid attribute for part-paid.

var PMS = "/api/proxy/demo-pms/_";
var MATTER = "ancestors!q?type=matter!1.";
var STATUS = {
  "invoice-issued": "issued",
  "invoice-part-paid": "part-paid",
  "invoice-paid": "paid",
  "invoice-cancelled": "cancelled"
};

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

function day(value) {
  var parsed = value ? DateTime.TryParse(value) : null;
  return parsed ? parsed.ToString("yyyy-MM-dd") : null;
}

function main(ev, ctx, log) {
  var id = ctx.workItemId;
  var status = STATUS[ctx.toPhase];
  if (!status) throw new Error("invoice-status was started for phase " + ctx.toPhase + ", which it does not send");
  var inv = read(id, [
    "reference",
    "title",
    "description",
    "attributes.netAmount",
    "attributes.vatAmount",
    "attributes.amountPaid",
    "attributes.pmsInvoiceReference",
    "keyDates.kd-invoice-due-date.date",
    MATTER + "reference",
    MATTER + "form-demo-finance.pmsReference"
  ]);
  var reference = inv["reference"] || id;
  var pmsInvoice = inv["attributes.pmsInvoiceReference"];

  if (!pmsInvoice) {
    if (status === "cancelled") {
      log.Information(reference + " was cancelled before it reached the PMS; nothing to send");
      return;
    }
    if (status !== "issued") {
      throw new Error(reference + " is now " + status + " but has no pmsInvoiceReference: it was never issued " +
        "to the PMS; send it (move it back through issued) or set pmsInvoiceReference by hand");
    }
    var matterRef = inv[MATTER + "form-demo-finance.pmsReference"];
    if (!matterRef) {
      throw new Error(reference + ": its matter " + (inv[MATTER + "reference"] || "(none)") +
        " has no pmsReference, so the invoice has nowhere to go in the PMS");
    }
    var net = number(inv["attributes.netAmount"]);
    if (net === null || net <= 0) {
      throw new Error(reference + ": attribute netAmount " + JSON.stringify(inv["attributes.netAmount"]) +
        " is not an amount");
    }
    var invoice = {
      operateInvoiceId: id,
      netAmount: net,
      vatAmount: number(inv["attributes.vatAmount"]) || 0,
      issuedDate: DateTime.Today.ToString("yyyy-MM-dd"),
      narrative: inv["title"]
    };
    var due = day(inv["keyDates.kd-invoice-due-date.date"]);
    if (due) invoice.dueDate = due;
    var res = sharedo.http.post(PMS + "/api/matters/" + encodeURIComponent(matterRef) + "/invoices", invoice);
    if (!res.success) throw new Error(failure("Sending " + reference + " to the PMS (" + matterRef + ")", res));
    pmsInvoice = res.body.invoiceId;
    if (!pmsInvoice) throw new Error("The PMS answered " + res.status + " with no invoiceId for " + reference);
    var saved = sharedo.http.post("/api/v1/public/workItem/" + id + "/attributes/pmsInvoiceReference",
      { value: pmsInvoice });
    if (!saved.success) throw new Error(failure("Writing pmsInvoiceReference back to " + reference, saved));
    ctx.pmsInvoiceReference = pmsInvoice;
    log.Information(reference + " issued to the PMS as " + pmsInvoice + " on " + matterRef + ": gross " +
      res.body.grossAmount + ", due " + res.body.dueDate + (res.status === "OK" ? " (the PMS already had it)" : ""));
    return;
  }

  var update = { status: status };
  if (status === "part-paid") {
    var paid = number(inv["attributes.amountPaid"]);
    if (paid === null || paid <= 0) {
      throw new Error(reference + " is part-paid but its amountPaid attribute is " +
        JSON.stringify(inv["attributes.amountPaid"]) + "; set the total paid so far");
    }
    update.amountPaid = paid;
  }
  var put = sharedo.http.put(PMS + "/api/invoices/" + encodeURIComponent(pmsInvoice) + "/status", update);
  if (!put.success) throw new Error(failure("Setting " + pmsInvoice + " (" + reference + ") to " + status, put));
  ctx.pmsInvoiceReference = pmsInvoice;
  log.Information(reference + " (" + pmsInvoice + ") is " + put.body.status + " in the PMS: paid " +
    put.body.amountPaid + ", outstanding " + put.body.outstanding);
}

return { main: main };
