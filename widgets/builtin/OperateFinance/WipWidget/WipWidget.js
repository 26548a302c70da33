/*
 * Work in progress: the matter's unbilled time and disbursements from the PMS, in total and by fee earner.
 * Configuration: linkedService (the proxy's service name), pms (which agent speaks its API),
 * referencePath (the enrich path holding the matter's PMS reference), clientPath, id (optional work item id).
 */
namespace("OperateFinance");

OperateFinance.WipWidget = function (element, configuration, baseModel) {
    var self = this;
    var defaults = {
        id: null,
        linkedService: "demo-pms",
        pms: "demo",
        referencePath: "form-demo-finance.pmsReference",
        clientPath: "roles.client.ods.id"
    };
    self.options = $.extend(true, {}, defaults, configuration);
    self.element = element;
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
    var common = OperateFinance.Common;
    if (!self.subscription) {
        self.subscription = $ui.events.subscribe("Sharedo.Core.Legal.Finance.Refresh", function () { self.loadAndBind(); });
    }
    var id = common.currentWorkItemId(self.options);
    self.state("loading");
    self.error(null);
    if (!id) {
        self.error({ message: "This widget needs a work item: place it on a work item's page.", detail: "" });
        self.state("error");
        return;
    }
    var agent;
    try {
        agent = common.agent(self.options);
    } catch (e) {
        self.error({ message: e.message, detail: "" });
        self.state("error");
        return;
    }
    common.loadMatter(id, self.options).then(function (matter) {
        self.matter(matter);
        if (!matter.pmsReference) {
            self.state("unlinked");
            return null;
        }
        return agent.wip(self.options, matter).then(function (wip) {
            self.wip(wip);
            self.state("ready");
        });
    }).then(null, function (xhr) {
        self.error(common.describeError(xhr, self.options));
        self.state("error");
    });
};

OperateFinance.WipWidget.prototype.onDestroy = function () {
    var self = this;
    if (self.subscription) $ui.events.unsubscribe(self.subscription);
    self.subscription = null;
};
