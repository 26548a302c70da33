/*
 * The aspect host: the work-item form (blade) that aspect widgets sit in on a real Operate portal.
 *
 *   configuration._host = { model, blade, enabled }       what every aspect widget's constructor reads
 *   _host.model.title()  _host.model.aspectData.formBuilder.formData ...   the work item, ko-mapped
 *   Save:   onBeforeSave(model) on each aspect, then refused while any validationErrorCount() > 0 (a
 *           visible message, nothing sent), then onSave(model), PUT /api/v1/public/workItem/{id} with
 *           the envelope, the model refreshed from the answer, then onAfterSave(model)
 *   Reload: GET /api/v1/public/workItem/{id}, the same model refreshed in place, then onReload(model)
 *
 * How the model maps the API's envelope (which members, which are observables, what Save sends back) is
 * inferred and lives in one place: `aspectModel` in widgets/portal-globals.json (boot.aspectModel).
 * All aspects on the page share the one model, as the aspects of one form do. A lifecycle method may
 * return a promise (or jQuery Deferred): the host waits for it; one that throws or rejects stops the
 * save (nothing sent) and is named in the console panel. operate-host.js calls OperateAspects.host()
 * before it constructs an aspect and OperateAspects.bind() once every widget is mounted.
 */
(function (window, document, $, ko) {
    "use strict";

    var ctx = null;  // {boot, show, toast} from operate-host.js
    var model = null;  // the one _host.model, filled in place on save and reload
    var loading = null;  // the first GET, shared by every aspect on the page
    var aspects = [];  // [{instance, configuration}] once mounted
    var busy = false;
    var journal = [];  // every lifecycle step the host ran, for people and tests: window.__operate.aspects

    function spec() { return (ctx.boot.aspectModel || {}).members || {}; }
    function itemUrl() { return "/api/v1/public/workItem/" + encodeURIComponent(ctx.boot.pageContext.sharedoId); }

    function read(obj, path) {
        return String(path).split(".").reduce(function (node, key) { return node == null ? undefined : node[key]; }, obj);
    }

    function write(obj, path, value) {
        var keys = String(path).split(".");
        var node = obj;
        keys.slice(0, -1).forEach(function (key) { node = node[key] = node[key] || {}; });
        node[keys[keys.length - 1]] = value;
    }

    // The envelope into the model: observables are written in place, so a widget that took
    // `_host.model.title` (the observable itself) sees every change; plain members are replaced.
    function fill(envelope) {
        var members = spec();
        model = model || {};
        Object.keys(members).forEach(function (name) {
            var member = members[name];
            var value = read(envelope, member.from);
            if (value === undefined) value = null;
            if (!member.observable) {
                model[name] = value;
            } else if (ko.isObservable(model[name])) {
                model[name](value);
            } else {
                model[name] = ko.observable(value);
            }
        });
        return model;
    }

    // The model back into the PUT body, member by member as `saved` says.
    function envelope() {
        var members = spec();
        var body = {};
        Object.keys(members).forEach(function (name) {
            var member = members[name];
            if (!member.saved || model[name] === undefined) return;
            write(body, member.saved, ko.toJS(model[name]));
        });
        return body;
    }

    function note(text, kind) {
        var box = document.getElementById("op-aspect-status");
        if (box) {
            box.textContent = text;
            box.setAttribute("data-kind", kind || "info");
        }
    }

    function record(step, widget, detail) {
        var entry = { step: step, widget: widget || "", detail: detail || "", at: new Date().toISOString() };
        journal.push(entry);
        if (journal.length > 500) journal.shift();
        ctx.show("info", step + (widget ? " " + widget : "") + (detail ? ": " + detail : ""), "aspect host");
    }

    function live() { return aspects.filter(function (a) { return a.instance; }); }

    // Each aspect's `method(model)` in turn, waiting on a returned promise; rejects with the reason.
    function each(method) {
        var chain = $.Deferred().resolve().promise();
        live().forEach(function (a) {
            chain = chain.then(function () {
                var fn = a.instance[method];
                if (typeof fn !== "function") return null;
                record(method, a.id);
                var answer;
                try {
                    answer = fn.call(a.instance, model);
                } catch (e) {
                    return $.Deferred().reject(a.id + "." + method + " threw: " + (e && e.message ? e.message : e)).promise();
                }
                if (answer && typeof answer.then === "function") {
                    var waited = $.Deferred();
                    answer.then(function () { waited.resolve(); }, function (why) {
                        waited.reject(a.id + "." + method + " failed: " + (why && why.message ? why.message : why));
                    });
                    return waited.promise();
                }
                return null;
            });
        });
        return chain;
    }

    function errorCounts() {
        return live().map(function (a) {
            var count = a.instance.validationErrorCount;
            if (typeof count === "function") count = count();  // a ko computed, or a plain function
            return { id: a.id, count: Number(count) || 0 };
        }).filter(function (c) { return c.count > 0; });
    }

    function stopped(text, level) {
        note(text, "error");
        ctx.toast("error", text);
        ctx.show(level || "error", text, "aspect host");
        record("stopped", "", text);
    }

    function httpProblem(xhr) {
        var body = xhr && xhr.responseJSON;
        var detail = body && (body.title || body.message);
        return "HTTP " + (xhr && xhr.status) + (detail ? " - " + detail : "");
    }

    function save() {
        var done = $.Deferred();
        if (busy) return done.reject("busy").promise();
        if (!model) {
            stopped("Nothing to save: the work item could not be loaded, so the aspects have no model");
            return done.reject("no model").promise();
        }
        busy = true;
        note("Saving\u2026");
        each("onBeforeSave").then(function () {
            var blocking = errorCounts();
            if (blocking.length) {
                var total = blocking.reduce(function (n, c) { return n + c.count; }, 0);
                var where = blocking.map(function (c) { return c.id + ": " + c.count; }).join(", ");
                stopped("Save is blocked: " + total + " validation error(s) (" + where + "); nothing was sent", "warning");
                return $.Deferred().reject("blocked").promise();
            }
            return each("onSave");
        }).then(function () {
            record("PUT", "", itemUrl());
            return window.$ajax.put(itemUrl(), envelope()).then(null, function (xhr) {
                return $.Deferred().reject("Save failed: PUT " + itemUrl() + " answered " + httpProblem(xhr)).promise();
            });
        }).then(function (answer) {
            if (answer && answer.workItem) fill(answer);
            return each("onAfterSave");
        }).done(function () {
            note("Saved");
            ctx.toast("info", "Saved");
            done.resolve(model);
        }).fail(function (why) {
            if (why !== "blocked") stopped(String(why && why.message ? why.message : why));
            done.reject(why);
        }).always(function () { busy = false; });
        return done.promise();
    }

    function reload() {
        var done = $.Deferred();
        if (busy) return done.reject("busy").promise();
        if (!ctx.boot.pageContext.sharedoId) {
            stopped("Nothing to reload: the page has no work item");
            return done.reject("no work item").promise();
        }
        busy = true;
        note("Reloading\u2026");
        record("GET", "", itemUrl());
        window.$ajax.get(itemUrl()).then(function (answer) {
            fill(answer);
            live().forEach(function (a) { a.configuration._host.model = model; });
            return each("onReload");
        }, function (xhr) {
            return $.Deferred().reject("Reload failed: GET " + itemUrl() + " answered " + httpProblem(xhr)).promise();
        }).done(function () {
            note("Reloaded");
            done.resolve(model);
        }).fail(function (why) {
            stopped(String(why));
            done.reject(why);
        }).always(function () { busy = false; });
        return done.promise();
    }

    var blade = { save: save, reload: reload };  // [inferred] the form the aspects sit in, as a stand-in

    window.OperateAspects = {
        // Before an aspect is constructed: its `_host`, once the work item is loaded (or could not be).
        host: function (configuration, helpers) {
            ctx = ctx || helpers;
            var holder = { model: null, blade: blade, enabled: ko.observable(true) };
            configuration._host = holder;
            if (!loading) {
                if (ctx.boot.pageContext.sharedoId) {
                    loading = window.$ajax.get(itemUrl()).then(fill, function (xhr) {
                        ctx.show("error", "the aspects have no model: GET " + itemUrl() + " answered " + httpProblem(xhr), "aspect host");
                        return null;
                    });
                } else {
                    ctx.show("warning", "aspect mode without a work item: _host.model is null (pick a work item)", "aspect host");
                    loading = $.Deferred().resolve(null).promise();
                }
            }
            return loading.then(function (loaded) {
                holder.model = loaded;
                return holder;
            });
        },
        // Once every widget is mounted: the page's Save and Reload drive these aspects.
        bind: function (instances) {  // [{instance, configuration, id: the widget's id}]
            aspects = instances.map(function (pair, i) {
                return { instance: pair.instance, configuration: pair.configuration, id: pair.id || "aspect " + (i + 1) };
            });
            var saveButton = document.getElementById("op-aspect-save");
            var reloadButton = document.getElementById("op-aspect-reload");
            if (saveButton) saveButton.addEventListener("click", function () { save(); });
            if (reloadButton) reloadButton.addEventListener("click", function () { reload(); });
            if (window.__operate) window.__operate.aspects = { journal: journal, save: save, reload: reload, model: function () { return model; } };
        }
    };
})(window, document, window.jQuery, window.ko);
