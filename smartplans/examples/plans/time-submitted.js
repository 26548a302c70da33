// Finance integration (seed 002): "Send Time Entries to the PMS".
// Event driven, Clio Operate -> PMS. Trigger: triggers/time-submitted.json — the Time Submitted
// event (`time-entry-state-changed` to `submitted`) on a matter.
//
// The submitted entry is posted to its matter's pmsReference (POST /api/matters/{ref}/time,
// idempotent on operateTimeEntryId): minutes from durationSeconds, the fee earner is the entry's
// timekeeper (odsId, which the PMS knows), narrative and activity code from the entry's segments.
// The write-back is a comment on the work item naming the PMS time entry id.

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

function segment(entry, id) {
  var found = (entry.segments || []).filter(function (s) { return s.id === id; })[0];
  return found || {};
}

function main(ev, ctx, log) {
  var entryId = ctx.timeEntryId;
  var got = sharedo.http.get("/api/v2/public/time/entry/" + entryId);
  if (!got.success) throw new Error(failure("Reading time entry " + entryId, got));
  var entry = got.body;

  // Time is recorded on the matter itself or on something under it (a task).
  var w = read(entry.sharedoId, [
    "reference",
    "type.path",
    "form-demo-finance.pmsReference",
    MATTER + "reference",
    MATTER + "form-demo-finance.pmsReference"
  ]);
  var onMatter = String(w["type.path"] || "").indexOf("/matter") === 0;
  var matterRef = onMatter ? w["form-demo-finance.pmsReference"] : w[MATTER + "form-demo-finance.pmsReference"];
  var matter = onMatter ? w["reference"] : w[MATTER + "reference"];
  if (!matterRef) {
    throw new Error("Time entry " + entryId + " on " + (w["reference"] || entry.sharedoId) + ": matter " +
      (matter || "(none)") + " has no pmsReference, so the time has nowhere to go in the PMS");
  }

  var seconds = Number(entry.durationSeconds || ev.Data.durationSeconds);
  if (!(seconds > 0)) throw new Error("Time entry " + entryId + " has no duration (durationSeconds " + seconds + ")");
  var time = {
    operateTimeEntryId: entryId,
    feeEarner: entry.odsId,
    minutes: Math.max(1, Math.ceil(seconds / 60))
  };
  var started = entry.startDateTime ? DateTime.TryParse(entry.startDateTime) : null;
  if (started) time.date = started.ToString("yyyy-MM-dd");
  var narrative = segment(entry, "narrative").segmentValue || entry.billingNotes;
  if (narrative) time.narrative = narrative;
  var activity = segment(entry, "activity").timeCodeId || entry.timeCodeId;
  if (activity) time.activityCode = activity;

  var res = sharedo.http.post(PMS + "/api/matters/" + encodeURIComponent(matterRef) + "/time", time);
  if (!res.success) throw new Error(failure("Posting time entry " + entryId + " to " + matterRef, res));
  var pmsId = res.body.timeEntryId;
  if (!pmsId) throw new Error("The PMS answered " + res.status + " with no timeEntryId for time entry " + entryId);

  var note = "Time entry " + entryId + " (" + time.minutes + " min, " + (entry.timekeeperName || entry.odsId) +
    ") posted to the PMS as " + pmsId + " on " + matterRef + ", value " + res.body.value;
  var saved = sharedo.http.post("/api/v1/public/workItem/" + entry.sharedoId + "/comments", { comment: note });
  if (!saved.success) throw new Error(failure("Adding the PMS time entry comment to " + w["reference"], saved));

  ctx.pmsTimeEntryId = pmsId;
  log.Information(note + (res.status === "OK" ? " (the PMS already had it)" : ""));
}

return { main: main };
