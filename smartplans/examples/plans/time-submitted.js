// Finance integration (seed 002): "Send Time Entries to the PMS".
// Event driven, Clio Operate -> PMS. Triggers: triggers/time-submitted.json and time-submitted-task.json —
// the Time Submitted event (`time-entry-state-changed` to `submitted`) on a matter or on a task.
//
// The submitted entry is posted to its matter's pmsReference (POST /api/matters/{ref}/time, keyed on
// operateTimeEntryId): minutes from durationSeconds, the fee earner is the entry's timekeeper (odsId,
// which the PMS knows), narrative and activity code from the entry's segments. Time recorded on a task
// goes to the task's matter (triggers/time-submitted-task.json runs this plan for tasks).
// A revised entry submitted again is posted again with the same id: the PMS revises its entry (while
// unbilled) and answers it with `revision` and what it held before. The plan checks that the PMS's
// answer holds what it sent, and fails naming the difference if not: a stale PMS is never reported
// as posted. The write-back is a comment on the work item naming the PMS time entry id.

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

// What the PMS's answer must hold of what was sent (a PMS that ignores a revision answers the old entry).
function differences(sent, held) {
  var out = [];
  ["minutes", "date", "narrative", "activityCode"].forEach(function (key) {
    if (sent[key] === undefined) return;
    if (String(held[key]) !== String(sent[key])) {
      out.push(key + " " + JSON.stringify(held[key]) + " (sent " + JSON.stringify(sent[key]) + ")");
    }
  });
  return out;
}

function notSent(workItemId, why) {
  // Where the user sees it: on the work item the time was recorded on, and as the execution's error.
  sharedo.http.post("/api/v1/public/workItem/" + workItemId + "/comments", { comment: why });
  throw new Error(why);
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
    notSent(entry.sharedoId, "Time entry " + entryId + " on " + (w["reference"] || entry.sharedoId) +
      " was not sent to the PMS: " + (matter ? "matter " + matter + " has no pmsReference"
        : "it is not on a matter or under one") + ", so the time has nowhere to go in the PMS");
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
  var wrong = differences(time, res.body);
  if (wrong.length) {
    throw new Error("The PMS answered " + res.statusCode + " " + res.status + " for time entry " + entryId +
      " but its entry " + pmsId + " on " + matterRef + " does not hold what was sent: " + wrong.join("; "));
  }

  var note = "Time entry " + entryId + " (" + time.minutes + " min, " + (entry.timekeeperName || entry.odsId) +
    ") posted to the PMS as " + pmsId + " on " + matterRef + ", value " + res.body.value;
  var before = (res.body.revisions || [])[(res.body.revisions || []).length - 1];
  if (before) note += " (revision " + res.body.revision + ", was " + before.minutes + " min, value " + before.value + ")";
  var saved = sharedo.http.post("/api/v1/public/workItem/" + entry.sharedoId + "/comments", { comment: note });
  if (!saved.success) throw new Error(failure("Adding the PMS time entry comment to " + w["reference"], saved));

  ctx.pmsTimeEntryId = pmsId;
  log.Information(note + (res.status === "OK" ? " (the PMS already had it)" : ""));
}

return { main: main };
