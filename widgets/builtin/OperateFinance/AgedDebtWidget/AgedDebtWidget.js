/*
 * Aged debt: the outstanding invoices of the matter's client, in 0-30 / 31-60 / 61-90 / 90+ day buckets
 * by due date (the PMS ages them on its clock), the total outstanding and the oldest invoice.
 * A click on a bucket lists its invoices. Configuration as for OperateFinance.WipWidget.
 */
namespace("OperateFinance");

OperateFinance.AgedDebtWidget = function (element, configuration, baseModel) {
    var self = this;
    self.options = $.extend(true, {}, OperateFinance.Common.defaults, configuration);
    self.state = ko.observable("loading");  // loading | unlinked | ready | error
    self.error = ko.observable(null);
    self.matter = ko.observable(null);
    self.debt = ko.observable(null);
    self.selected = ko.observable(null);  // the bucket whose invoices are listed
    self.isEmpty = ko.pureComputed(function () {
        var d = self.debt();
        return !!d && Number(d.total) === 0;
    });
    self.largest = ko.pureComputed(function () {
        var d = self.debt();
        return d ? Math.max.apply(null, d.buckets.map(function (b) { return Number(b.amount) || 0; }).concat([0])) : 0;
    });
    self.money = function (amount) {
        var d = self.debt();
        return OperateFinance.Common.money(amount, OperateFinance.Common.currency(d && d.currency));
    };
    self.date = OperateFinance.Common.date;
    self.barWidth = function (bucket) {
        var largest = self.largest();
        return largest > 0 ? Math.round((Number(bucket.amount) / largest) * 100) + "%" : "0%";
    };
    self.choose = function (bucket) {
        self.selected(self.selected() === bucket ? null : bucket);
    };
    self.isSelected = function (bucket) {
        return self.selected() === bucket;
    };
    self.subscription = null;
};

OperateFinance.AgedDebtWidget.prototype.loadAndBind = function () {
    var self = this;
    self.selected(null);
    OperateFinance.Common.load(self, function (agent, matter) {
        return agent.agedDebt(self.options, matter).then(function (debt) { self.debt(debt); });
    });
};

OperateFinance.AgedDebtWidget.prototype.onDestroy = function () {
    OperateFinance.Common.release(this);
};
