/*
 * Clio Manage's agent for the OperateFinance widgets: the only code that knows Clio's API (v4). Clio keeps
 * the time, expenses and bills but works out neither WIP nor ageing, so this agent does, in the browser, from
 * the records it reads through the linked-service proxy (the service's base URL is Clio's host; the proxy
 * injects the firm's connection token). It gives the demo agent's model (DemoPmsAgent.js):
 *
 *   wip      the matter's unbilled activities (status=unbilled, billable ones), by user: a TimeEntry's total is
 *            time and its quantity (seconds, the API's default version) the hours; any other kind is a
 *            disbursement. The Clio matter gives the reference (display number), status and responsible attorney.
 *   agedDebt the matter's client (from the Clio matter), that client's bills awaiting payment with a balance,
 *            every page, aged in whole days from due_at to today (UTC) into 0-30 / 31-60 / 61-90 / 90+;
 *            the bills of this matter make matterTotal. Invoices are named by the bill's number.
 *
 * The work item carries the Clio matter id as its attribute clioIntegrationId (the Clio sync writes it):
 *   { "pms": "clio", "linkedService": "clio", "referencePath": "attributes.clioIntegrationId" }
 * Amounts are added in cents. Clio's answers name no currency here: the page's currency applies.
 */
namespace("OperateFinance");
OperateFinance.PmsAgents = OperateFinance.PmsAgents || {};

OperateFinance.PmsAgents.clio = (function () {
    "use strict";
    var API = "api/v4/";
    var PAGE_SIZE = 200;
    var MAX_PAGES = 50;  // a bound on any list walk: 10,000 records
    var MAX_LISTED = 500;  // invoices listed, oldest first (the demo PMS lists as many)
    var DAY_MS = 86400000;
    var BUCKETS = [{ label: "0-30", last: 30 }, { label: "31-60", last: 60 }, { label: "61-90", last: 90 }, { label: "90+", last: Infinity }];
    var ACTIVITY_FIELDS = "id,type,quantity,total,non_billable,user{id,name}";
    var BILL_FIELDS = "id,number,due_at,balance,total,matters{id}";
    var MATTER_FIELDS = "id,display_number,status,client{id,name},responsible_attorney{id,name}";

    function url(options, path, query) {
        var params = Object.keys(query || {}).map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(query[k]); });
        return OperateFinance.Common.proxyUrl(options.linkedService, API + path + (params.length ? "?" + params.join("&") : ""));
    }

    function failed(message) {
        return $.Deferred().reject(new Error(message)).promise();
    }

    // Clio's meta.paging.next is an absolute URL on Clio's own host: its path and query go through the proxy again.
    function nextUrl(options, link) {
        var parsed = new URL(link, window.location.href);
        var at = parsed.pathname.indexOf("/" + API);
        if (at < 0) throw new Error("Clio's next page (" + link + ") is not under /" + API);
        return OperateFinance.Common.proxyUrl(options.linkedService, parsed.pathname.slice(at + 1) + parsed.search);
    }

    // Every record of a list, page by page in id order (cursor paging), at most MAX_PAGES pages.
    function walk(options, path, query) {
        var rows = [];
        function page(href, count) {
            return $ajax.get(href).then(function (body) {
                rows = rows.concat((body && body.data) || []);
                var next = body && body.meta && body.meta.paging && body.meta.paging.next;
                if (!next) return rows;
                if (count + 1 >= MAX_PAGES) return failed("Clio's " + path + " has more than " + MAX_PAGES * PAGE_SIZE + " records; stopped");
                return page(nextUrl(options, next), count + 1);
            });
        }
        return page(url(options, path, $.extend({ order: "id(asc)", limit: PAGE_SIZE }, query)), 0);
    }

    function clioMatter(options, id) {
        return $ajax.get(url(options, "matters/" + id + ".json", { fields: MATTER_FIELDS })).then(function (answer) {
            return (answer && answer.data) || {};
        });
    }

    function matterId(matter) {
        var id = String(matter.pmsReference).trim();
        return /^[0-9]{1,19}$/.test(id) ? id : null;
    }

    function cents(value) { return Math.round(Number(value) * 100); }
    function amount(c) { return c / 100; }
    function sum(rows, key) { return rows.reduce(function (total, row) { return total + row[key]; }, 0); }

    function wip(options, matter) {
        var id = matterId(matter);
        if (!id) return failed("the Clio matter id on this work item (" + matter.pmsReference + ") is not a whole number");
        return $.when(
            walk(options, "activities.json", { matter_id: id, status: "unbilled", fields: ACTIVITY_FIELDS }),
            clioMatter(options, id)
        ).then(function (activities, m) {
            var byUser = {};
            activities.forEach(function (a) {
                if (a.non_billable) return;
                var user = a.user || {};
                var key = user.id === null || user.id === undefined ? "" : String(user.id);
                var row = byUser[key] || (byUser[key] = { name: user.name || "(no user)", code: key, seconds: 0, time: 0, disbursements: 0 });
                if (a.type === "TimeEntry") {
                    row.time += cents(a.total);
                    row.seconds += Number(a.quantity) || 0;
                } else {
                    row.disbursements += cents(a.total);
                }
            });
            var earners = Object.keys(byUser).map(function (k) { return byUser[k]; }).sort(function (a, b) {
                return a.name < b.name ? -1 : a.name > b.name ? 1 : a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
            });
            var time = sum(earners, "time"), disbursements = sum(earners, "disbursements");
            return {
                asOf: new Date().toISOString(),
                currency: null,
                total: amount(time + disbursements),
                unbilledTime: amount(time),
                unbilledDisbursements: amount(disbursements),
                unbilledMinutes: Math.round(sum(earners, "seconds") / 60),
                feeEarners: earners.map(function (e) {
                    return { name: e.name, code: e.code, minutes: Math.round(e.seconds / 60), time: amount(e.time), disbursements: amount(e.disbursements), total: amount(e.time + e.disbursements) };
                }),
                pmsMatter: { reference: m.display_number || String(m.id || id), status: m.status, feeEarnerName: (m.responsible_attorney || {}).name || null }
            };
        });
    }

    function dayOf(text) {
        var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
        if (!parts) throw new Error("Clio sent a bill with the due date " + JSON.stringify(text));
        return Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]));
    }

    function bucketOf(days) {
        for (var i = 0; i < BUCKETS.length; i++) if (days <= BUCKETS[i].last) return BUCKETS[i].label;
        return BUCKETS[BUCKETS.length - 1].label;
    }

    function agedDebt(options, matter) {
        var id = matterId(matter);
        if (!id) return failed("the Clio matter id on this work item (" + matter.pmsReference + ") is not a whole number");
        return clioMatter(options, id).then(function (m) {
            var client = m.client || {};
            if (client.id === null || client.id === undefined) return failed("the Clio matter " + id + " has no client");
            return walk(options, "bills.json", { client_id: client.id, state: "awaiting_payment", fields: BILL_FIELDS }).then(function (bills) {
                var now = new Date();
                var today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
                var invoices = [];
                bills.forEach(function (b) {
                    var owed = cents(b.balance);
                    if (!(owed > 0)) return;
                    var days = Math.round((today - dayOf(b.due_at)) / DAY_MS);
                    invoices.push({
                        invoiceId: b.number ? String(b.number) : String(b.id),
                        dueDate: b.due_at,
                        daysOverdue: days,
                        bucket: bucketOf(days),
                        owed: owed,
                        gross: cents(b.total),
                        onMatter: (b.matters || []).some(function (x) { return String(x.id) === id; })
                    });
                });
                invoices.sort(function (a, b) {
                    return a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.invoiceId < b.invoiceId ? -1 : a.invoiceId > b.invoiceId ? 1 : 0;
                });
                var listed = invoices.slice(0, MAX_LISTED).map(function (i) {
                    return { invoiceId: i.invoiceId, dueDate: i.dueDate, daysOverdue: i.daysOverdue, bucket: i.bucket, outstanding: amount(i.owed), grossAmount: amount(i.gross) };
                });
                return {
                    asOf: now.toISOString(),
                    currency: null,
                    total: amount(sum(invoices, "owed")),
                    notYetDue: amount(sum(invoices.filter(function (i) { return i.daysOverdue < 0; }), "owed")),
                    invoiceCount: invoices.length,
                    clientName: client.name || null,
                    matterTotal: amount(sum(invoices.filter(function (i) { return i.onMatter; }), "owed")),
                    truncated: invoices.length > MAX_LISTED,
                    buckets: BUCKETS.map(function (bucket) {
                        var inside = invoices.filter(function (i) { return i.bucket === bucket.label; });
                        return {
                            label: bucket.label,
                            amount: amount(sum(inside, "owed")),
                            count: inside.length,
                            invoices: listed.filter(function (i) { return i.bucket === bucket.label; })
                        };
                    }),
                    oldest: listed.length ? listed[0] : null
                };
            });
        });
    }

    return { name: "Clio Manage", wip: wip, agedDebt: agedDebt };
})();
