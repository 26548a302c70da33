/*
 * OperateFinance.Common: what both finance widgets share, written only against the portal's own
 * globals ($ajax, $ui.pageContext, ko, moment), so the folder can be copied onto a tenant's IDE as is.
 * The PMS-specific part is one agent script per PMS (../Agents/<Pms>Agent.js).
 */
namespace("OperateFinance");
OperateFinance.PmsAgents = OperateFinance.PmsAgents || {};

OperateFinance.Common = (function () {
    "use strict";

    // Both widgets' configuration (ConfigurationJson): the proxy's service, its PMS agent, and the enrich
    // paths of the matter's PMS reference and client; `id` names a work item other than the page's.
    var defaults = {
        id: null,
        linkedService: "demo-pms",
        pms: "demo",
        referencePath: "form-demo-finance.pmsReference",
        clientPath: "roles.client.ods.id"
    };

    function context(path, fallback) {
        var node = $ui.pageContext;
        var parts = path.split(".");
        for (var i = 0; i < parts.length && node != null; i++) node = ko.unwrap(node)[parts[i]];
        node = ko.unwrap(node);
        return node === undefined || node === null || node === "" ? fallback : node;
    }

    function culture() {
        return context("localisation.defaultCultureCode", "en-GB");
    }

    function currency(fromPms) {
        return context("contextCurrencyCode", null) || fromPms || "GBP";
    }

    function money(amount, currencyCode) {
        if (amount === null || amount === undefined || isNaN(Number(amount))) return "";
        try {
            return new Intl.NumberFormat(culture(), { style: "currency", currency: currencyCode || currency() }).format(Number(amount));
        } catch (e) {
            return Number(amount).toFixed(2);
        }
    }

    function hours(minutes) {
        var n = Number(minutes) || 0;
        return new Intl.NumberFormat(culture(), { maximumFractionDigits: 1 }).format(n / 60) + " h";
    }

    function date(value) {
        if (!value) return "";
        return moment(value).format(context("localisation.defaultDateFormat", "DD/MM/YYYY"));
    }

    function proxyUrl(service, path) {
        return "/api/proxy/" + encodeURIComponent(service) + "/_/" + path;
    }

    function agent(options) {
        var found = OperateFinance.PmsAgents[options.pms];
        if (!found) {
            throw new Error("no PMS agent '" + options.pms + "' (known: " + Object.keys(OperateFinance.PmsAgents).join(", ") +
                "); add its Agents script to the widget's manifest");
        }
        return found;
    }

    // The matter as the widget needs it, read the way a tenant widget reads it: findByQuery with enrich paths.
    function loadMatter(workItemId, options) {
        var body = {
            search: { workItemIds: [workItemId] },
            enrich: [{ path: "title" }, { path: "reference" }, { path: options.referencePath }, { path: options.clientPath }, { path: "roles.client.ods.name" }]
        };
        return $ajax.post("/api/v1/public/workItem/findByQuery", body).then(function (answer) {
            var row = answer && answer.results && answer.results[0];
            if (!row) return $.Deferred().reject({ status: 404, responseJSON: { title: "work item " + workItemId + " was not found" } });
            var data = row.data || {};
            return {
                id: row.id,
                title: data.title,
                reference: data.reference,
                pmsReference: data[options.referencePath] || null,
                clientOdsId: data[options.clientPath] || null,
                clientName: data["roles.client.ods.name"] || null
            };
        });
    }

    // A failed call in words a fee earner can act on, with the server's own explanation after it.
    function describeError(xhr, options) {
        if (xhr instanceof Error) return { message: "The widget failed: " + xhr.message, detail: "", status: 0 };
        var status = xhr && xhr.status;
        var body = (xhr && xhr.responseJSON) || {};
        var detail = body.title || body.message || "";
        var text;
        if (xhr && xhr.parseError) text = "The PMS sent an answer that is not valid JSON.";
        else if (status === 401 && /bearer token/i.test(detail)) text = "You are not signed in to Operate (401).";
        else if (status === 403) text = "You do not have permission to see figures from the PMS.";
        else if (status === 404 && /linked service/.test(detail)) text = "The PMS link '" + options.linkedService + "' is not set up.";
        else if (status === 404) text = "The PMS does not know this matter.";
        else if (status === 502) text = "The PMS could not be reached or failed (502 Bad Gateway).";
        else if (status === 503) text = "The PMS is unavailable (503).";
        else if (status === 504) text = "The PMS did not answer in time (504 Gateway Timeout).";
        else if (status === 401) text = "The PMS refused the link's credentials (401).";
        else if (!status) text = "No answer from the server.";
        else text = "The PMS answered " + status + ".";
        return { message: text, detail: detail && detail !== text ? detail : "", status: status || 0 };
    }

    function currentWorkItemId(options) {
        return options.id || ($ui.pageContext && ko.unwrap($ui.pageContext.sharedoId)) || null;
    }

    // What both widgets do on loadAndBind: find the matter, stop at "not linked", else ask the PMS agent.
    // `widget` has observables state/error/matter and options; `figures(agent, matter)` returns a promise.
    // The widget reloads on the portal's finance refresh event until onDestroy calls release(widget).
    function load(widget, figures) {
        if (!widget.subscription) {
            widget.subscription = $ui.events.subscribe("Sharedo.Core.Legal.Finance.Refresh", function () { widget.loadAndBind(); });
        }
        var id = currentWorkItemId(widget.options);
        widget.state("loading");
        widget.error(null);
        var fail = function (message) {
            widget.error({ message: message, detail: "" });
            widget.state("error");
        };
        if (!id) return fail("This widget needs a work item: place it on a work item's page.");
        var pms;
        try {
            pms = agent(widget.options);
        } catch (e) {
            return fail(e.message);
        }
        loadMatter(id, widget.options).then(function (matter) {
            widget.matter(matter);
            if (!matter.pmsReference) {
                widget.state("unlinked");
                return null;
            }
            return figures(pms, matter).then(function () { widget.state("ready"); });
        }).then(null, function (xhr) {
            widget.error(describeError(xhr, widget.options));
            widget.state("error");
        });
    }

    function release(widget) {
        if (widget.subscription) $ui.events.unsubscribe(widget.subscription);
        widget.subscription = null;
    }

    return {
        defaults: defaults,
        money: money,
        hours: hours,
        date: date,
        currency: currency,
        proxyUrl: proxyUrl,
        agent: agent,
        loadMatter: loadMatter,
        describeError: describeError,
        currentWorkItemId: currentWorkItemId,
        load: load,
        release: release
    };
})();
