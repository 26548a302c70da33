/*
 * The demo PMS's agent for the OperateFinance widgets: the only code that knows this PMS's API.
 * It turns the PMS's answers into the widgets' model. Another PMS gets its own agent file
 * (OperateFinance.PmsAgents.<name>) and the widgets are configured with { "pms": "<name>" }.
 *
 *   wip(options, matter)      -> { asOf, currency, total, unbilledTime, unbilledDisbursements, unbilledMinutes,
 *                                  feeEarners[{name, code, minutes, time, disbursements, total}], pmsMatter{reference, status, feeEarnerName} }
 *   agedDebt(options, matter) -> { asOf, currency, total, notYetDue, invoiceCount, clientName, matterTotal,
 *                                  buckets[{label, amount, count, invoices[{invoiceId, dueDate, daysOverdue, outstanding, grossAmount}]}], oldest }
 */
namespace("OperateFinance");
OperateFinance.PmsAgents = OperateFinance.PmsAgents || {};

OperateFinance.PmsAgents.demo = (function () {
    "use strict";
    var url = function (options, path) { return OperateFinance.Common.proxyUrl(options.linkedService, path); };
    var body = function (answer) { return answer; };

    function wip(options, matter) {
        var ref = encodeURIComponent(matter.pmsReference);
        // Both calls go out at once: the widget waits for the slower, not for the sum.
        return $.when(
            $ajax.get(url(options, "api/matters/" + ref + "/wip")).then(body),
            $ajax.get(url(options, "api/matters/" + ref)).then(body)
        ).then(function (w, m) {
            return {
                asOf: w.asOf,
                currency: w.currency,
                total: w.total,
                unbilledTime: w.unbilledTime,
                unbilledDisbursements: w.unbilledDisbursements,
                unbilledMinutes: w.unbilledMinutes,
                feeEarners: (w.feeEarners || []).map(function (f) {
                    return { name: f.name || f.feeEarner, code: f.feeEarner, minutes: f.unbilledMinutes, time: f.unbilledTime, disbursements: f.unbilledDisbursements, total: f.total };
                }),
                pmsMatter: { reference: m.pmsReference, status: m.status, feeEarnerName: m.feeEarnerName }
            };
        });
    }

    function agedDebt(options, matter) {
        var ref = encodeURIComponent(matter.pmsReference);
        var forMatter = $ajax.get(url(options, "api/matters/" + ref + "/aged-debt")).then(body);
        var forClient = matter.clientOdsId
            ? $ajax.get(url(options, "api/clients/" + encodeURIComponent(matter.clientOdsId) + "/aged-debt?detail=true")).then(body)
            : $ajax.get(url(options, "api/matters/" + ref)).then(function (m) {  // no client on the work item: ask the PMS whose matter it is
                return $ajax.get(url(options, "api/clients/" + encodeURIComponent(m.clientId) + "/aged-debt?detail=true")).then(body);
            });
        return $.when(forClient, forMatter).then(function (c, m) {
            var invoices = c.invoices || [];
            return {
                asOf: c.asOf,
                currency: c.currency,
                total: c.total,
                notYetDue: c.notYetDue,
                invoiceCount: c.invoiceCount,
                clientName: c.clientName,
                matterTotal: m.total,
                truncated: !!c.invoicesTruncated,
                buckets: (c.buckets || []).map(function (b) {
                    return {
                        label: b.label,
                        amount: b.amount,
                        count: b.count,
                        invoices: invoices.filter(function (i) { return i.bucket === b.label; })
                    };
                }),
                oldest: invoices.length ? invoices[0] : null  // the PMS lists them oldest first
            };
        });
    }

    return { name: "Demo PMS", wip: wip, agedDebt: agedDebt };
})();
