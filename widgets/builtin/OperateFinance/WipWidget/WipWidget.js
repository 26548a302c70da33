/*
 * Work in progress: the matter's unbilled time and disbursements from the PMS, in total and by fee earner.
 * Configuration: linkedService (the proxy's service name), pms (which agent speaks its API),
 * referencePath (the enrich path holding the matter's PMS reference), clientPath, id (optional work item id).
 */
namespace("OperateFinance");

OperateFinance.WipWidget = function (element, configuration, baseModel) {
    var self = this;
    self.options = $.extend(true, {}, OperateFinance.Common.defaults, configuration);
    self.state = ko.observable("loading");  // loading | unlinked | ready | error
    self.error = ko.observable(null);
    self.matter = ko.observable(null);
    self.wip = ko.observable(null);
    self.isEmpty = ko.pureComputed(function () {
        var w = self.wip();
        return !!w && Number(w.total) === 0 && !(w.feeEarners || []).some(function (f) { return Number(f.total) !== 0; });
    });
    self.money = function (amount) {
        var w = self.wip();
        return OperateFinance.Common.money(amount, OperateFinance.Common.currency(w && w.currency));
    };
    self.hours = OperateFinance.Common.hours;
    self.date = OperateFinance.Common.date;
    self.subscription = null;
};

OperateFinance.WipWidget.prototype.loadAndBind = function () {
    var self = this;
    OperateFinance.Common.load(self, function (agent, matter) {
        return agent.wip(self.options, matter).then(function (wip) { self.wip(wip); });
    });
};

OperateFinance.WipWidget.prototype.onDestroy = function () {
    OperateFinance.Common.release(this);
};
