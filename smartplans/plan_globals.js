// The globals real Operate plans use, for one warm V8 context.
//
// Python calls __operate.run(planKey, step, input) once per attempt. A step runs until it needs a
// host result that has not been recorded yet (an HTTP call): then it stops with {status: "host-call"},
// Python performs the call, records the response and runs the step again from its start, feeding
// recorded results in order. Every effect (log lines, ctx, triggers) is buffered here and handed back
// only when the step completes, so a replay is invisible. Date, Math.random and Guid.NewGuid come from
// the per-run input, so replays are exact.
(function (global) {
  "use strict";

  var plans = {};
  var run = null; // the state of the step now running
  // The runtime's own protocol never trusts what a plan can reach: these are taken before any plan runs.
  var stringify = JSON.stringify, parse = JSON.parse, ownNames = Object.getOwnPropertyNames;

  var RealDate = Date;
  var RealTypeError = TypeError, RealProxy = Proxy, reflectGet = Reflect.get, sliceText = String.prototype.slice;

  // -- what the emulator does not provide, named ----------------------------------------------------
  // The host namespaces (sharedo, sharedo.http, trigger, log, actions.sharedo, the builders, ...) are
  // proxies: reading a member the emulator does not have answers undefined, as on any object (so a
  // `typeof x.y === "undefined"` probe, `in` and JSON still work), and is noted. A step that then fails
  // with a TypeError fails with "not emulated: <member> — see /_emulator/fidelity"; one that completes
  // gets one Warning line per such member in its log.
  var FIDELITY = "/_emulator/fidelity";
  var PROBED = { then: 1, toJSON: 1, inspect: 1, nodeType: 1, $$typeof: 1, asymmetricMatch: 1, "@@__IMMUTABLE_ITERABLE__@@": 1 };
  function notEmulated(path, target) {
    return new RealProxy(target, {
      get: function (t, key, receiver) {
        if (typeof key === "symbol" || key in t || PROBED[key] === 1) return reflectGet(t, key, receiver);
        if (run) noteMissing(path + "." + String(key), String(key));
        return undefined;
      }
    });
  }
  // A plan may probe thousands of members: the first MISSING_NAMED are named, the rest only counted.
  var MISSING_NAMED = 20;
  function noteMissing(member, key) {
    if (member.length > 200) member = member.substring(0, 200) + "…";
    run.lastMissing = { member: member, key: key };
    if (run.missingSeen[member] === 1) return;
    run.missingSeen[member] = 1;
    if (run.missing.length < MISSING_NAMED) run.missing[run.missing.length] = member;
    else run.missingMore++;
  }
  // (no Array.prototype methods: the step may have replaced them, and they are put back only after it)
  function logMissing() {
    var logs = run.logs;
    for (var i = 0; i < run.missing.length; i++) {
      logs[logs.length] = { logLevel: "Warning", logMessage: "not emulated: " + run.missing[i] + " (read as undefined) — see " + FIDELITY };
    }
    if (run.missingMore) {
      logs[logs.length] = { logLevel: "Warning", logMessage: "not emulated: " + run.missingMore + " more members of the host's globals (read as undefined; not named) — see " + FIDELITY };
    }
  }
  // A TypeError is put down to the last member read that is not emulated only when the error is about it
  // (its name, or an undefined value), not to an earlier harmless probe: `null.x` after `typeof a.b` is the plan's.
  function notEmulatedError(error) {
    var last = run && run.lastMissing;
    if (!last || !(error instanceof RealTypeError)) return null;
    var message = String(error.message);
    if (message.indexOf(last.key) < 0 && message.indexOf("undefined") < 0) return null;
    var line = "not emulated: " + last.member + " — see " + FIDELITY;
    return { message: line + " (" + error.message + ")", stack: line + "\n" + String(error.stack || error.message) };
  }

  function HostCallNeeded(request) {
    this.request = request;
  }

  // -- deterministic time and randomness ----------------------------------------------------------
  function mulberry32(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function nowMs() {
    if (!run) throw new Error("the clock is only readable while a step runs");
    return run.now;
  }

  function OperateDate(a, b, c, d, e, f, g) {
    var n = arguments.length;
    var value;
    if (n === 0) value = new RealDate(nowMs());
    else if (n === 1) value = new RealDate(a instanceof DateTime ? a.valueOf() : a);
    else value = new RealDate(a, b, c === undefined ? 1 : c, d || 0, e || 0, f || 0, g || 0);
    if (!(this instanceof OperateDate)) return value.toString();
    Object.setPrototypeOf(value, OperateDate.prototype);
    return value;
  }
  OperateDate.prototype = Object.create(RealDate.prototype);
  OperateDate.prototype.constructor = OperateDate;
  OperateDate.now = function () { return nowMs(); };
  OperateDate.parse = RealDate.parse;
  OperateDate.UTC = RealDate.UTC;
  global.Date = OperateDate;

  // mini-racer's timers run on wall time and outlive the step; a plan waits with trigger.SubProcess.
  ["setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval"].forEach(function (name) {
    try { delete global[name]; } catch (e) { /* not configurable: overwrite below */ }
    try { if (typeof global[name] !== "undefined") global[name] = undefined; } catch (e) { /* read-only */ }
  });

  var realRandom = Math.random;
  Math.random = function () { return run ? run.random() : realRandom(); };

  // -- DateTime and Guid, .NET-flavoured as on the platform ---------------------------------------
  function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = "0" + n; return n; }

  function DateTime(ms) {
    if (!(this instanceof DateTime)) return new DateTime(ms);
    if (typeof ms !== "number" || isNaN(ms)) throw new Error("DateTime needs a time value");
    this._ms = ms;
  }
  function addMs(dt, ms) { return new DateTime(dt._ms + ms); }
  function utc(dt) { return new RealDate(dt._ms); }
  DateTime.prototype = {
    constructor: DateTime,
    AddMilliseconds: function (n) { return addMs(this, n); },
    AddSeconds: function (n) { return addMs(this, n * 1000); },
    AddMinutes: function (n) { return addMs(this, n * 60000); },
    AddHours: function (n) { return addMs(this, n * 3600000); },
    AddDays: function (n) { return addMs(this, n * 86400000); },
    AddMonths: function (n) { var d = utc(this); d.setUTCMonth(d.getUTCMonth() + n); return new DateTime(d.getTime()); },
    AddYears: function (n) { var d = utc(this); d.setUTCFullYear(d.getUTCFullYear() + n); return new DateTime(d.getTime()); },
    get Year() { return utc(this).getUTCFullYear(); },
    get Month() { return utc(this).getUTCMonth() + 1; },
    get Day() { return utc(this).getUTCDate(); },
    get Hour() { return utc(this).getUTCHours(); },
    get Minute() { return utc(this).getUTCMinutes(); },
    get Second() { return utc(this).getUTCSeconds(); },
    get DayOfWeek() { return utc(this).getUTCDay(); },
    get Date() { var d = utc(this); return new DateTime(RealDate.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())); },
    get Ticks() { return this._ms * 10000 + 621355968000000000; },
    ToUniversalTime: function () { return this; },
    ToLocalTime: function () { return this; },
    CompareTo: function (other) { return this._ms < other.valueOf() ? -1 : this._ms > other.valueOf() ? 1 : 0; },
    ToString: function (format) {
      var d = utc(this);
      var y = d.getUTCFullYear(), mo = pad(d.getUTCMonth() + 1), da = pad(d.getUTCDate());
      var h = pad(d.getUTCHours()), mi = pad(d.getUTCMinutes()), s = pad(d.getUTCSeconds());
      if (format === "o" || format === "O") return y + "-" + mo + "-" + da + "T" + h + ":" + mi + ":" + s + "." + pad(d.getUTCMilliseconds(), 3) + "0000Z";
      if (format === "s") return y + "-" + mo + "-" + da + "T" + h + ":" + mi + ":" + s;
      if (format === "yyyy-MM-dd") return y + "-" + mo + "-" + da;
      if (format === "d") return mo + "/" + da + "/" + y;
      return d.toISOString();
    },
    toISOString: function () { return utc(this).toISOString(); },
    toJSON: function () { return utc(this).toISOString(); },
    toString: function () { return utc(this).toISOString(); },
    valueOf: function () { return this._ms; }
  };
  function toMs(value, what) {
    if (value instanceof DateTime || value instanceof RealDate) {
      if (isNaN(value.valueOf())) throw new Error((what || "DateTime") + ": the date is not valid");
      return value.valueOf();
    }
    if (typeof value === "number") {
      if (!isFinite(value)) throw new Error((what || "DateTime") + ": " + value + " is not a time");
      return value;
    }
    if (typeof value === "string") {
      var ms = RealDate.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) || value.length <= 10 ? value : value + "Z");
      if (!isNaN(ms)) return ms;
    }
    throw new Error((what || "DateTime.Parse") + ": cannot read a date from " + JSON.stringify(value));
  }
  DateTime.Parse = function (s) { return new DateTime(toMs(s)); };
  DateTime.TryParse = function (s) { try { return new DateTime(toMs(s)); } catch (e) { return null; } };
  Object.defineProperty(DateTime, "Now", { get: function () { return new DateTime(nowMs()); } });
  Object.defineProperty(DateTime, "UtcNow", { get: function () { return new DateTime(nowMs()); } });
  Object.defineProperty(DateTime, "Today", { get: function () { return new DateTime(nowMs()).Date; } });
  global.DateTime = notEmulated("DateTime", DateTime);

  function GuidValue(text) { this._text = text.toLowerCase(); }
  GuidValue.prototype = {
    ToString: function () { return this._text; },
    toString: function () { return this._text; },
    toJSON: function () { return this._text; },
    Equals: function (other) { return String(other).toLowerCase() === this._text; }
  };
  var GUID = /^\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?$/;
  global.Guid = notEmulated("Guid", {
    NewGuid: function () {
      var h = "";
      for (var i = 0; i < 32; i++) h += Math.floor(run.random() * 16).toString(16);
      h = h.substring(0, 12) + "4" + h.substring(13, 16) + "89ab"[Math.floor(run.random() * 4)] + h.substring(17);
      return new GuidValue(h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-" + h.substring(20));
    },
    Parse: function (s) {
      var m = GUID.exec(String(s).trim());
      if (!m) throw new Error("Guid.Parse: not a GUID: " + JSON.stringify(s));
      return new GuidValue(m.slice(1).join("-"));
    },
    TryParse: function (s) { try { return global.Guid.Parse(s); } catch (e) { return null; } },
    Empty: new GuidValue("00000000-0000-0000-0000-000000000000")
  });

  // -- log ----------------------------------------------------------------------------------------
  function text(value) {
    if (typeof value === "string") return value;
    if (value === undefined) return "undefined";
    try { return typeof value === "object" && value !== null && !(value instanceof DateTime) ? JSON.stringify(value) : String(value); }
    catch (e) { return String(value); }
  }
  // A step keeps its first `logLines` lines, each cut to `textChars` characters; what was dropped or cut
  // is said ([limits] log_lines_per_step and text_kb in operate.toml).
  function cut(value) {
    var limit = run ? run.textLimit : 65536;
    if (typeof value !== "string" || value.length <= limit) return value;
    return apply(sliceText, value, [0, limit]) + "… [cut: " + (value.length - limit) + " more characters; the limit is " +
      limit + " ([limits] text_kb in operate.toml)]";
  }
  function logger(level) {
    return function (message) {
      if (run.logs.length >= run.logLimit) { run.dropped++; return; }
      var parts = [];
      for (var i = 0; i < arguments.length; i++) parts.push(text(arguments[i]));
      run.logs.push({ logLevel: level, logMessage: cut(parts.join(" ")) });
    };
  }
  function noteDropped() {
    if (!run.dropped) return;
    run.logs.push({ logLevel: "Warning", logMessage: run.dropped + " more log lines were dropped: a step keeps its first " +
      run.logLimit + " ([limits] log_lines_per_step in operate.toml)" });
  }
  var log = {
    Debug: logger("Debug"), Verbose: logger("Verbose"), Information: logger("Information"),
    Warning: logger("Warning"), Error: logger("Error"), Fatal: logger("Fatal")
  };
  global.log = notEmulated("log", log);

  // -- host calls ---------------------------------------------------------------------------------
  // Ask Python for call number i. `replace` says the record from i on is to be dropped (a retried
  // step that now takes another path); otherwise the answer fills or extends the record at i.
  function needCall(request, i, replace) {
    request.index = i;
    if (replace) request.replace = true;
    run.pending = request;
    throw new HostCallNeeded(request);
  }

  function hostCall(request) {
    var i = run.calls++;
    if (i < run.recorded.length) {
      var recorded = run.recorded[i];
      if (recorded.refetch) needCall(request, i, false);  // a retry makes reads and failed calls again
      if (recorded.request.method !== request.method || recorded.request.url !== request.url ||
          JSON.stringify(recorded.request.body) !== JSON.stringify(request.body)) {
        if (run.retrying) needCall(request, i, true);
        throw new Error("this step is not deterministic: host call " + (i + 1) + " was " +
          recorded.request.method + " " + recorded.request.url + " before and is " +
          request.method + " " + request.url + " now (read time and randomness only from DateTime, Date, Math.random and Guid)");
      }
      return recorded.response;
    }
    needCall(request, i, false);
  }

  function http(method) {
    return function (url, body) {
      if (typeof url !== "string" || !url) throw new Error("sharedo.http." + method.toLowerCase() + ": url must be a non-empty string");
      var request = { method: method, url: url, body: body === undefined ? null : JSON.parse(JSON.stringify(body)) };
      return hostCall(request);
    };
  }

  function lookup(path) {
    var value = run.ctx;
    var parts = path.split(".");
    for (var i = 0; i < parts.length; i++) {
      if (value === null || value === undefined) return undefined;
      value = value[parts[i]];
    }
    return value;
  }

  global.sharedo = notEmulated("sharedo", {
    http: notEmulated("sharedo.http", { get: http("GET"), post: http("POST"), put: http("PUT"), "delete": http("DELETE"), patch: http("PATCH") }),
    setPhase: function (workItemId, phaseSystemName, ignored, reasonText) {
      var response = hostCall({ method: "PUT", url: "/api/v1/public/workItem/" + String(workItemId) + "/phase",
        body: { toPhaseSystemName: phaseSystemName, reasonText: reasonText === undefined ? null : reasonText } });
      if (!response.success) throw new Error("sharedo.setPhase(" + workItemId + ", " + phaseSystemName + ") failed: " + response.status + " " + text(response.body));
      return response.body;
    },
    buildString: function (template) {
      return String(template).replace(/\{\{\s*([A-Za-z0-9_$.]+)\s*\}\}/g, function (_, path) {
        var value = lookup(path.replace(/^ctx\./, ""));
        return value === undefined || value === null ? "" : text(value);
      });
    },
    context: notEmulated("sharedo.context", {
      currentUser: function () { return { clientId: "ee-app", userId: null }; }
    })
  });

  // -- trigger ------------------------------------------------------------------------------------
  var UNITS = { Seconds: 1000, Minutes: 60000, Hours: 3600000, Days: 86400000, Weeks: 604800000 };

  function stepName(step, where) {
    if (typeof step !== "string" || !step) throw new Error(where + ": a step system name is required");
    return step;
  }

  function later(step, amount) {
    if (typeof amount !== "number" || !isFinite(amount) || amount < 0) throw new Error("trigger.SubProcess(" + JSON.stringify(step) + ").In(n): n must be a number of at least 0");
    // Reading a unit schedules the step, once per builder: the getters are not enumerable, so logging or
    // stringifying the builder schedules nothing.
    var units = {};
    var scheduled = false;
    Object.keys(UNITS).forEach(function (unit) {
      Object.defineProperty(units, unit, { enumerable: false, get: function () {
        if (!scheduled) run.triggers.push({ kind: "subprocess", step: step, at: run.now + amount * UNITS[unit] });
        scheduled = true;
        return true;
      } });
    });
    return notEmulated("trigger.SubProcess(..).In(n)", units);
  }

  global.trigger = notEmulated("trigger", {
    SubProcess: function (step) {
      step = stepName(step, "trigger.SubProcess");
      return notEmulated("trigger.SubProcess(..)", {
        Now: function () { run.triggers.push({ kind: "subprocess", step: step, at: null }); return true; },
        On: function (when) { run.triggers.push({ kind: "subprocess", step: step, at: toMs(when, "trigger.SubProcess(..).On") }); return true; },
        In: function (amount) { return later(step, amount); }
      });
    },
    CreateForSharedo: function (sharedoId) {
      if (!sharedoId) throw new Error("trigger.CreateForSharedo: a work item id is required");
      return {
        Execute: function (step) {
          step = stepName(step, "trigger.CreateForSharedo(..).Execute");
          return {
            OnPhase: function (phase) {
              if (typeof phase !== "string" || !phase) throw new Error("trigger.CreateForSharedo(..).Execute(..).OnPhase: a phase system name is required");
              run.triggers.push({ kind: "on-phase", sharedoId: String(sharedoId), step: step, phase: phase });
              return true;
            }
          };
        }
      };
    }
  });

  // -- actions.sharedo fluent builders ------------------------------------------------------------
  function isWorkingDay(ms) { var d = new RealDate(ms).getUTCDay(); return d !== 0 && d !== 6; }
  function addWorkingDays(when, n) {
    var ms = toMs(when, "AddWorkingDays"), step = n < 0 ? -1 : 1, left = Math.abs(n);
    while (left > 0) { ms += step * 86400000; if (isWorkingDay(ms)) left--; }
    return new DateTime(ms);
  }
  function addWorkingHours(when, n) {
    var ms = toMs(when, "AddWorkingHours"), left = Math.abs(n), step = n < 0 ? -1 : 1;
    while (left > 0) {
      ms += step * 3600000;
      var h = new RealDate(ms).getUTCHours();
      if (isWorkingDay(ms) && h >= 9 && h < 17) left--;
    }
    return new DateTime(ms);
  }

  function CallToActionBuilder() {
    this._cta = { CallToActionContextType: "Work Item", ContextId: null, Command: null, CommandConfiguration: null, Icon: null, Css: null, Display: null };
    return notEmulated("actions.sharedo.BuildCallToAction()", this);
  }
  CallToActionBuilder.prototype = {
    WithDisplay: function (title) { this._cta.Display = title; return this; },
    WithStyles: function (css) { this._cta.Css = css; return this; },
    WithIcon: function (icon) { this._cta.Icon = icon; return this; },
    WithCommand: function (command, configuration) { this._cta.Command = command; this._cta.CommandConfiguration = configuration === undefined ? null : configuration; return this; },
    WithContext: function (type, id) { this._cta.CallToActionContextType = type; this._cta.ContextId = id === undefined ? null : String(id); return this; },
    Build: function () { return JSON.parse(JSON.stringify(this._cta)); }
  };

  function ActionPlanItemBuilder() {
    this._item = { description: null, type: "Checkbox", required: false, order: 0, callToAction: null };
    return notEmulated("actions.sharedo.BuildActionPlanItem()", this);
  }
  ActionPlanItemBuilder.prototype = {
    WithDescription: function (s) { this._item.description = s; return this; },
    AddCheckbox: function () { this._item.type = "Checkbox"; return this; },
    AddInformation: function () { this._item.type = "Information"; return this; },
    AddHeader: function () { this._item.type = "Header"; return this; },
    MarkRequired: function () { this._item.required = true; return this; },
    WithOrder: function (n) { this._item.order = n; return this; },
    WithCallToAction: function (cta) { this._item.callToAction = cta; return this; },
    Build: function () { return JSON.parse(JSON.stringify(this._item)); }
  };

  function ActionPlanBuilder(owner) {
    this._owner = owner;
    this._plan = { sharedoId: null, title: null, items: [] };
    return notEmulated(owner ? "actions.sharedo.BuildTask()...WithActionPlan()" : "actions.sharedo.BuildActionPlan()", this);
  }
  ActionPlanBuilder.prototype = {
    ForSharedo: function (id) { this._plan.sharedoId = String(id); return this; },
    WithTitle: function (s) { this._plan.title = s; return this; },
    AddItem: function (item) { this._plan.items.push(item instanceof ActionPlanItemBuilder ? item.Build() : item); return this; },
    Build: function () {
      var plan = JSON.parse(JSON.stringify(this._plan));
      if (this._owner) { this._owner._task.actionPlan = plan; return this._owner; }
      return {
        plan: plan,
        Save: function () {
          if (!plan.sharedoId) throw new Error("BuildActionPlan(): call ForSharedo(id) before Save()");
          var response = hostCall({ method: "PUT", url: "/api/v1/public/workItem/" + plan.sharedoId,
            body: { aspectData: { actionPlan: { title: plan.title, items: plan.items } } } });
          if (!response.success) throw new Error("saving the action plan failed: " + response.status + " " + text(response.body));
          return plan.sharedoId;
        }
      };
    },
    // Real actions call Save() on the builder itself: a task's action plan saves its task.
    Save: function () { return this.Build().Save(); }
  };

  function TaskBuilder() {
    this._task = { id: null, type: "task", title: null, description: null, priorityId: null, tags: [], dueOn: null,
      parentId: null, assignments: [], onComplete: null, onOverdue: null, onPhase: [], actionPlan: null, reminders: [] };
    return notEmulated("actions.sharedo.BuildTask()", this);
  }
  // `.OnReminderDue(step).At(n).Minutes` (or Seconds, Hours, Days, Weeks): a reminder n units before the
  // task's due date [inferred: before, as a reminder is]; reading the unit records it and gives the
  // builder back, so the chain goes on. On Save it is kept on the task and the step is timed for it.
  function reminder(builder, step) {
    step = stepName(step, "BuildTask().OnReminderDue");
    return notEmulated("actions.sharedo.BuildTask().OnReminderDue(..)", {
      At: function (amount) {
        if (typeof amount !== "number" || !isFinite(amount) || amount < 0) throw new Error("BuildTask().OnReminderDue(" + JSON.stringify(step) + ").At(n): n must be a number of at least 0");
        var units = {}, recorded = false;  // once per At(n), as trigger.SubProcess(..).In(n) schedules once
        Object.keys(UNITS).forEach(function (unit) {
          Object.defineProperty(units, unit, { enumerable: false, get: function () {
            if (!recorded) builder._task.reminders.push({ step: step, offset: amount, unit: unit });
            recorded = true;
            return builder;
          } });
        });
        return notEmulated("actions.sharedo.BuildTask().OnReminderDue(..).At(n)", units);
      }
    });
  }
  TaskBuilder.prototype = {
    WithId: function (id) { this._task.id = String(id); return this; },
    OfType: function (type) { this._task.type = type; return this; },
    WithTitle: function (s) { this._task.title = s; return this; },
    WithDescription: function (s) { this._task.description = s; return this; },
    WithPriorityId: function (n) { this._task.priorityId = n; return this; },
    WithTag: function (tag) { this._task.tags.push(tag); return this; },
    DueOn: function (when) { this._task.dueOn = new DateTime(toMs(when, "BuildTask().DueOn")).ToString("o"); return this; },
    ForSharedo: function (id) { this._task.parentId = String(id); return this; },
    WithSharedo: function (id) { this._task.parentId = String(id); return this; },
    Assign: function (role) {
      var self = this;
      return { To: function (odsId) { self._task.assignments.push({ roleSystemName: role, odsId: String(odsId) }); return self; } };
    },
    OnComplete: function (step) { this._task.onComplete = step; return this; },
    OnOverdue: function (step) { this._task.onOverdue = step; return this; },
    OnReminderDue: function (step) { return reminder(this, step); },
    OnPhase: function (phase, step) { this._task.onPhase.push({ phase: phase, step: step }); return this; },
    WithActionPlan: function () { return new ActionPlanBuilder(this); },
    // Real actions call Save() on the builder itself, as well as on what Build() gives.
    Save: function () { return this.Build().Save(); },
    Build: function () {
      var task = JSON.parse(JSON.stringify(this._task));
      if (!task.title) throw new Error("BuildTask(): WithTitle(..) is required");
      if (task.reminders.length && !task.dueOn) throw new Error("BuildTask(): OnReminderDue(..) needs DueOn(..): a reminder is timed from the due date");
      task.reminders.forEach(function (r) {
        r.reminderDateTime = new DateTime(toMs(task.dueOn) - r.offset * UNITS[r.unit]).ToString("o");
      });
      return {
        task: task,
        Save: function () {
          var aspectData = {};
          if (task.dueOn) aspectData.task = { dueDateTime: task.dueOn };
          if (task.actionPlan) aspectData.actionPlan = { title: task.actionPlan.title, items: task.actionPlan.items };
          if (task.priorityId !== null) aspectData.task = Object.assign(aspectData.task || {}, { priorityId: task.priorityId });
          if (task.tags.length) aspectData.task = Object.assign(aspectData.task || {}, { tags: task.tags });
          if (task.reminders.length) aspectData.task = Object.assign(aspectData.task || {}, { reminders: task.reminders.map(function (r) {
            return { reminderDateTime: r.reminderDateTime, offset: r.offset, offsetMetric: r.unit };
          }) });
          var response = hostCall({ method: "POST", url: "/api/v1/public/workItem", body: {
            parentSharedoId: task.parentId,
            workItem: { sharedoTypeSystemName: task.type, title: task.title, description: task.description },
            aspectData: aspectData, participants: task.assignments } });
          if (!response.success) throw new Error("BuildTask().Save() failed: " + response.status + " " + text(response.body));
          var id = response.body.workItem.id;
          if (task.onComplete) run.triggers.push({ kind: "on-phase", sharedoId: id, step: task.onComplete, phase: "task-done" });
          task.onPhase.forEach(function (p) { run.triggers.push({ kind: "on-phase", sharedoId: id, step: p.step, phase: p.phase }); });
          if (task.onOverdue && task.dueOn) run.triggers.push({ kind: "subprocess", step: task.onOverdue, at: toMs(task.dueOn) });
          task.reminders.forEach(function (r) { run.triggers.push({ kind: "subprocess", step: r.step, at: toMs(r.reminderDateTime) }); });
          return id;
        }
      };
    }
  };

  global.actions = notEmulated("actions", {
    sharedo: notEmulated("actions.sharedo", {
      BuildTask: function () { return new TaskBuilder(); },
      BuildActionPlan: function () { return new ActionPlanBuilder(null); },
      BuildActionPlanItem: function () { return new ActionPlanItemBuilder(); },
      BuildCallToAction: function () { return new CallToActionBuilder(); },
      AddWorkingDays: addWorkingDays,
      AddWorkingHours: addWorkingHours
    })
  });

  // -- what Python calls ---------------------------------------------------------------------------
  function errorOf(e) {
    if (e instanceof Error) return { message: cut(String(e.message)), stack: cut(String(e.stack || e.message)) };
    return { message: cut(text(e)), stack: null };
  }

  // -- coverage (`operate test --coverage`): the counters of instrumented plans -----------------------------
  // An instrumented plan counts into __operate_coverage__[its url] (Istanbul's shape: s, f, b). A step is
  // replayed from its start after each host call, so only its last run may count: the counters are zeroed as
  // a run starts and handed back with a step that ended, never with a run that stopped for a host call.
  var coverage = Object.create(null);
  Object.defineProperty(global, "__operate_coverage__", { value: coverage, enumerable: false, writable: false, configurable: false });
  function zeroCounts(counts) { for (var k in counts) counts[k] = 0; }
  function zeroCoverage() {
    for (var url in coverage) {
      var c = coverage[url];
      zeroCounts(c.s); zeroCounts(c.f);
      for (var b in c.b) { var arms = c.b[b]; for (var i = 0; i < arms.length; i++) arms[i] = 0; }
    }
  }
  function touched(counts) { for (var k in counts) if (counts[k]) return true; return false; }
  function takeCoverage() {  // the files that counted anything since the last zeroing, then zeroed
    var out = {};
    for (var url in coverage) {
      var c = coverage[url];
      if (touched(c.s) || touched(c.f)) out[url] = { hash: c.hash, s: c.s, f: c.f, b: c.b };
    }
    out = parse(stringify(out));
    zeroCoverage();
    return out;
  }

  global.__operate = {
    load: function (key, source, sourceUrl) {
      var factory = (0, eval)("(function(){" + source + "\n})\n//# sourceURL=" + sourceUrl);
      var steps;
      // A plan's top-level code runs here, outside any step: what it changes on the shared built-ins and host
      // objects, or leaves on the global object, is undone before any step of any plan runs.
      try { steps = factory(); } finally { forgetGlobals(); }
      if (!steps || typeof steps !== "object") throw new Error(sourceUrl + ": a plan must end with `return { main: main, ... }` (a map of step functions)");
      var names = Object.keys(steps).filter(function (k) { return typeof steps[k] === "function"; });
      if (!names.length) throw new Error(sourceUrl + ": the returned map has no step functions");
      plans[key] = steps;
      return names;
    },
    unload: function (key) { delete plans[key]; return true; },
    has: function (key) { return Object.prototype.hasOwnProperty.call(plans, key); },
    globals: function () {
      function own(proto) { return Object.getOwnPropertyNames(proto).filter(function (k) { return k !== "constructor"; }); }
      return {
        OperateLog: Object.keys(log), OperateTrigger: Object.keys(global.trigger),
        OperateSharedo: Object.keys(global.sharedo), OperateHttp: Object.keys(global.sharedo.http),
        "OperateActions.sharedo": Object.keys(global.actions.sharedo),
        OperateDateTimeStatic: Object.getOwnPropertyNames(DateTime).filter(function (k) {
          return ["length", "name", "prototype"].indexOf(k) < 0; }),
        OperateDateTime: own(DateTime.prototype), OperateGuidStatic: Object.keys(global.Guid),
        OperateGuid: own(GuidValue.prototype).filter(function (k) { return k !== "toString" && k !== "toJSON"; }),
        OperateTaskBuilder: own(TaskBuilder.prototype), OperateActionPlanBuilder: own(ActionPlanBuilder.prototype),
        OperateActionPlanItemBuilder: own(ActionPlanItemBuilder.prototype),
        OperateCallToActionBuilder: own(CallToActionBuilder.prototype),
        globals: ["ctx", "ev", "log", "trigger", "sharedo", "actions", "DateTime", "Guid"]
      };
    },
    runJson: function (key, step, input) {
      if (!input.coverage) return stringify(runStep(key, step, input));
      zeroCoverage();
      var result = runStep(key, step, input);
      if (result.status === "completed" || result.status === "error") result.coverage = takeCoverage();
      return stringify(result);
    },
    takeCoverage: function () { return stringify(takeCoverage()); },
    // Called after a step: the promise callbacks it queued run now, inside the step's CPU-time limit,
    // and then the shared built-ins are checked: "" when they are as before, else why the context must go.
    drain: function () { forgetGlobals(); return checkIntrinsics(); },
    run: function (key, step, input) { return runStep(key, step, input); }
  };

  // The recorded host calls of the step now between its replays: Python sends only what this side has
  // not seen (input.recorded from index input.recordedFrom), so a step with k calls costs k, not k².
  var held = { key: null, list: [] };
  function remember(input) {
    if (input.stepKey === undefined) return input.recorded;  // a caller that sends the whole list
    if (held.key !== input.stepKey) {
      if (input.recordedFrom) return null;  // this side lost its copy (a new context): ask for all of it
      held = { key: input.stepKey, list: [] };
    }
    if (input.recordedFrom > held.list.length) return null;
    held.list.length = input.recordedFrom;  // a retry took another path from here
    for (var i = 0; i < input.recorded.length; i++) held.list.push(input.recorded[i]);
    return held.list;
  }
  function forgetRecorded() { held = { key: null, list: [] }; }

  // A run that stopped for a host call; with `snapshots` (a replay, smartplans/replay.py) also the ctx as it
  // stood when the call was made, so a person can step through a run call by call.
  function pendingCall(input) {
    var out = { status: "host-call", request: run.pending };
    if (input.snapshots) out.ctx = parse(stringify(run.ctx));
    return out;
  }

  function runStep(key, step, input) {
      var steps = plans[key];
      if (!steps) return { status: "error", error: { message: "plan " + key + " is not loaded", stack: null } };
      var fn = steps[step];
      if (typeof fn !== "function") {
        return { status: "error", error: { message: "plan has no step " + JSON.stringify(step) + "; its steps are " + Object.keys(steps).join(", "), stack: null } };
      }
      var recorded = remember(input);
      if (recorded === null) return { status: "need-recorded" };
      run = { now: input.now, random: mulberry32(input.seed), recorded: recorded, calls: 0, pending: null,
        logs: [], triggers: [], ctx: input.ctx, retrying: !!input.retrying, missing: [], missingSeen: Object.create(null), missingMore: 0, lastMissing: null,
        buffers: 0, bufferLimit: input.heapBytes || 64 * 1048576,
        logLimit: input.logLines || 1000, textLimit: input.textChars || 65536, dropped: 0 };
      var ev = input.ev;
      global.ctx = run.ctx;
      global.ev = ev;
      try {
        fn(ev, run.ctx, log);
        if (run.pending) return pendingCall(input);
        forgetRecorded();
        noteDropped();
        logMissing();
        return { status: "completed", ctx: parse(stringify(run.ctx)), logs: run.logs, triggers: run.triggers };
      } catch (e) {
        // A step may catch what we throw; what it was waiting for still wins.
        if (run.pending) return pendingCall(input);
        forgetRecorded();
        noteDropped();
        var named = notEmulatedError(e);
        if (!named) logMissing();
        var failure = named || errorOf(e);
        return { status: "error", error: { message: cut(failure.message), stack: cut(failure.stack) }, logs: run.logs };
      } finally {
        run = null;
        global.ctx = undefined;
        global.ev = undefined;
        forgetGlobals();
      }
  }

  // -- one plan cannot change what another sees -------------------------------------------------------
  // The host API and the built-ins the runtime leans on are frozen, and their global names cannot be
  // rebound (a plan's assignment does nothing, as it would to any read-only property); whatever a step
  // leaves on the global object is removed when it ends; timers that outlive a step are not offered.
  // Array buffers live outside V8's heap, so its limit does not see them: each step is charged for the
  // buffers it makes (ArrayBuffer, SharedArrayBuffer, typed arrays, slices, resizes) against its heap limit.
  function charge(bytes) {
    if (!run || !(bytes > 0)) return;
    run.buffers += bytes;
    if (run.buffers > run.bufferLimit) {
      throw new RangeError("the step's array buffers passed its heap limit of " + Math.round(run.bufferLimit / 1048576) + " MB");
    }
  }
  function charging(Real, sizeOf) {
    return new Proxy(Real, { construct: function (target, args, newTarget) {
      var made = Reflect.construct(target, args, newTarget);
      charge(sizeOf(made, args));
      return made;
    } });
  }
  function ownBuffer(made, args) {  // a typed array over a buffer it was given allocates nothing
    var src = args[0];
    return src instanceof RealBuffer || (typeof SharedArrayBuffer !== "undefined" && src instanceof SharedArrayBuffer) ? 0 : made.byteLength;
  }
  var RealBuffer = ArrayBuffer;
  var bufferSize = function (made) { return made.maxByteLength || made.byteLength; };
  ["ArrayBuffer", "SharedArrayBuffer"].forEach(function (name) {
    var Real = global[name];
    if (typeof Real !== "function") return;
    var slice = Real.prototype.slice;
    Real.prototype.slice = function () { var out = slice.apply(this, arguments); charge(out.byteLength); return out; };
    if (typeof Real.prototype.resize === "function") {
      var resize = Real.prototype.resize;
      Real.prototype.resize = function (length) { var before = this.byteLength; resize.call(this, length); charge(this.byteLength - before); };
    }
    global[name] = charging(Real, bufferSize);
  });
  var TYPED = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
    "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];
  TYPED.forEach(function (name) { if (typeof global[name] === "function") global[name] = charging(global[name], ownBuffer); });
  var TypedProto = Object.getPrototypeOf(Int8Array.prototype);
  ["slice", "map", "filter"].forEach(function (method) {
    var real = TypedProto[method];
    TypedProto[method] = function () { var out = real.apply(this, arguments); charge(out.byteLength); return out; };
  });

  // -- the built-ins every plan shares ----------------------------------------------------------------
  // Every object reachable from the global object (constructors, prototypes, namespaces, the intrinsics
  // only syntax reaches) is checked after each step: identity and descriptor of each property, its
  // prototype and whether it is extensible. What a step added, replaced or deleted is put back; what
  // cannot be put back (a frozen or sealed prototype, a non-configurable property) makes Python replace
  // the context. Plain methods (functions no object inherits from) are frozen instead: nothing of theirs
  // is worth changing and a frozen object needs no check. The check is cheap when nothing changed:
  // identities are compared, and the functions that change a property's attributes or an object's
  // prototype or extensibility (defineProperty, freeze, setPrototypeOf, ...) flag the step when given a
  // shared built-in, so only such a step pays for the full comparison of descriptors.
  var ownKeys = Reflect.ownKeys, describe = Object.getOwnPropertyDescriptor, define = Object.defineProperty;
  var protoOf = Object.getPrototypeOf, setProto = Object.setPrototypeOf, isExtensible = Object.isExtensible;
  var isFrozen = Object.isFrozen, freeze = Object.freeze, apply = Reflect.apply, RealSet = Set;
  var setHas = Set.prototype.has, deleteProperty = Reflect.deleteProperty, hasOwnProperty = Object.prototype.hasOwnProperty;
  function hasOwn(o, key) { return apply(hasOwnProperty, o, [key]); }
  var intrinsics = null; // {list, shared, tampered}, set when the host is ready
  function flagging(holder, name, targetOf) {
    var real = holder[name];
    if (typeof real !== "function") return;
    var d = describe(holder, name);
    d.value = new RealProxy(real, { apply: function (target, self, args) {
      if (isShared(targetOf(self, args))) intrinsics.tampered = true;
      return apply(target, self, args);
    } });
    define(holder, name, d);
  }
  var firstArg = function (self, args) { return args[0]; }, receiver = function (self) { return self; };
  ["defineProperty", "defineProperties", "freeze", "seal", "preventExtensions", "setPrototypeOf"].forEach(function (name) {
    flagging(Object, name, firstArg);
  });
  ["defineProperty", "setPrototypeOf", "preventExtensions"].forEach(function (name) { flagging(Reflect, name, firstArg); });
  ["__defineGetter__", "__defineSetter__"].forEach(function (name) { flagging(Object.prototype, name, receiver); });
  (function () {
    var d = describe(Object.prototype, "__proto__");
    if (!d || !d.set) return;
    var realSet = d.set;
    d.set = new RealProxy(realSet, { apply: function (target, self, args) {
      if (isShared(self)) intrinsics.tampered = true;
      return apply(target, self, args);
    } });
    define(Object.prototype, "__proto__", d);
  })();

  // Nothing below trusts what a plan can reach: plain loops, no Array/Map/Set methods (a step may have
  // replaced Array.prototype.push), only the functions taken above.
  function guardIntrinsics() {
    var roots = [global, function* () {}, async function () {}, async function* () {}, [][Symbol.iterator](),
      new Map()[Symbol.iterator](), new Set()[Symbol.iterator](), ""[Symbol.iterator](), /a/[Symbol.matchAll]("a"),
      OperateDate.prototype];
    var seen = new RealSet(), found = [], inherited = new RealSet();
    seen.add(coverage);  // the coverage counters are written by every instrumented plan: never put back
    function visit(o) {
      if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) return;
      seen.add(o);
      found.push(o);
      var proto = protoOf(o);
      if (proto !== null) inherited.add(proto);
      visit(proto);
      ownKeys(o).forEach(function (key) {
        var d = describe(o, key);
        if ("value" in d) visit(d.value); else { visit(d.get); visit(d.set); }
      });
    }
    roots.forEach(visit);
    var list = [], shared = new RealSet();
    found.forEach(function (o) {
      if (o !== global && isFrozen(o)) return;
      var method = typeof o === "function" && !inherited.has(o) && !hasOwn(o, "prototype");
      if (method) { freeze(o); return; }
      shared.add(o);
      var keys = ownKeys(o), values = [], accessors = [], descriptors = [];
      keys.forEach(function (key) {
        var d = describe(o, key);
        descriptors.push(key, d);
        if ("value" in d) values.push(key, d.value); else accessors.push(key, d.get, d.set);
      });
      list.push({ o: o, count: keys.length, values: values, accessors: accessors, descriptors: descriptors,
        proto: protoOf(o), extensible: isExtensible(o) });
    });
    return { list: list, shared: shared, tampered: false };
  }
  function isShared(o) { return intrinsics !== null && apply(setHas, intrinsics.shared, [o]); }
  function differ(a, b) { return a !== b && (a === a || b === b); }  // NaN is itself
  // True when every shared built-in is as it was: a count of keys and an identity per property.
  function untouched() {
    var list = intrinsics.list;
    for (var i = 0; i < list.length; i++) {
      var g = list[i], o = g.o;
      if (protoOf(o) !== g.proto || isExtensible(o) !== g.extensible || ownKeys(o).length !== g.count) return false;
      var values = g.values;
      for (var j = 0; j < values.length; j += 2) if (differ(o[values[j]], values[j + 1])) return false;
      var accessors = g.accessors;
      for (var k = 0; k < accessors.length; k += 3) {
        var d = describe(o, accessors[k]);
        if (!d || d.get !== accessors[k + 1] || d.set !== accessors[k + 2]) return false;
      }
    }
    return true;
  }
  function sameDescriptor(a, b) {
    return !differ(a.value, b.value) && a.get === b.get && a.set === b.set && a.writable === b.writable &&
      a.enumerable === b.enumerable && a.configurable === b.configurable;
  }
  function nameOf(o) {
    if (o === global) return "globalThis";
    var ctor = describe(o, "constructor");
    if (ctor && typeof ctor.value === "function" && ctor.value.prototype === o) return String(ctor.value.name) + ".prototype";
    var own = describe(o, "name");
    return own && typeof own.value === "string" ? own.value : "a built-in object";
  }
  // Put back what a step changed; the names of what could not be put back (then the context is replaced).
  function restoreIntrinsics() {
    var lost = [], list = intrinsics.list;
    function note(what) { lost[lost.length] = what; }
    for (var i = 0; i < list.length; i++) {
      var g = list[i], o = g.o;
      try {
        if (isExtensible(o) !== g.extensible) note(nameOf(o) + " was made non-extensible (frozen, sealed or preventExtensions)");
        if (protoOf(o) !== g.proto) { try { setProto(o, g.proto); } catch (e) { note(nameOf(o) + "'s prototype was changed"); } }
        var keys = ownKeys(o), d = g.descriptors;
        for (var k = 0; k < keys.length; k++) {
          var known = false;
          for (var m = 0; m < d.length; m += 2) if (d[m] === keys[k]) { known = true; break; }
          if (!known && !deleteProperty(o, keys[k])) note(nameOf(o) + "." + String(keys[k]) + " was added non-configurable");
        }
        for (var n = 0; n < d.length; n += 2) {
          var now = describe(o, d[n]);
          if (now && sameDescriptor(now, d[n + 1])) continue;
          try { define(o, d[n], d[n + 1]); } catch (e) { note(nameOf(o) + "." + String(d[n]) + " was changed and cannot be put back"); }
        }
      } catch (e) {
        note(nameOf(o) + " could not be checked");
      }
    }
    return lost;
  }
  // After each step and each load: "" when the shared built-ins are as before (or were put back), else
  // what could not be put back: Python then replaces the context.
  function checkIntrinsics() {
    var flagged = intrinsics.tampered;
    intrinsics.tampered = false;
    var clean = false;
    if (!flagged) { try { clean = untouched(); } catch (e) { clean = false; } }
    if (clean) return "";
    var lost = restoreIntrinsics(), out = "";
    for (var i = 0; i < lost.length && i < 5; i++) out += (i ? "; " : "") + lost[i];
    return lost.length > 5 ? out + " (and " + (lost.length - 5) + " more)" : out;
  }

  function deepFreeze(value) {
    if ((typeof value !== "object" && typeof value !== "function") || value === null || Object.isFrozen(value)) return;
    Object.freeze(value);
    ownNames(value).forEach(function (name) {
      var d = Object.getOwnPropertyDescriptor(value, name);
      if (d && "value" in d) deepFreeze(d.value);
    });
  }
  ["sharedo", "log", "trigger", "actions", "Guid", "DateTime", "JSON", "Math", "Reflect", "__operate",
    "ArrayBuffer", "SharedArrayBuffer"].concat(TYPED).forEach(function (name) {
    if (typeof global[name] === "undefined") return;
    deepFreeze(global[name]);
    Object.defineProperty(global, name, { value: global[name], writable: false, configurable: false, enumerable: false });
  });
  Object.freeze(TypedProto);
  // The host's own classes are host API, frozen like the rest of it (their instances' state is their own).
  [DateTime.prototype, GuidValue.prototype, TaskBuilder.prototype, ActionPlanBuilder.prototype,
    ActionPlanItemBuilder.prototype, CallToActionBuilder.prototype].forEach(deepFreeze);
  try { delete global.__timer_manager; } catch (e) { /* not configurable */ }
  if (typeof Atomics !== "undefined") { try { delete Atomics.waitAsync; } catch (e) { /* not configurable */ } }
  global.ctx = undefined;
  global.ev = undefined;
  var baseline = Object.create(null);
  ownNames(global).forEach(function (name) { baseline[name] = true; });
  intrinsics = guardIntrinsics();
  function forgetGlobals() {
    ownNames(global).forEach(function (name) {
      if (!baseline[name]) { try { delete global[name]; } catch (e) { /* a non-configurable leftover */ } }
    });
  }
})(this);
