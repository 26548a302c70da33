/*
 * The page's scenario key on its calls through the linked-service proxy (docs/widgets.md, "Scenarios").
 *
 * A harness page rendered with a scenario boots with a key of its own (boot.scenarioKey). The demo PMS fake
 * applies the scenario's faults only to calls carrying that key, so the scenario belongs to this page (this
 * tab, this test): another tab, a page with no scenario and every plan see the PMS as it is. The widget's
 * code is not touched: the host adds the header, here, to every same-origin request under /api/proxy/,
 * whether the widget calls $ajax, $.ajax, XMLHttpRequest or fetch. Loaded before every other host script.
 */
(function () {
    "use strict";
    var HEADER = "X-Operate-Scenario"; // emulator/kernel/scenario_keys.py SCENARIO_HEADER
    var boot = document.getElementById("operate-boot");
    var key = null;
    try { key = boot ? JSON.parse(boot.textContent).scenarioKey : null; } catch (e) { key = null; }
    if (!key) return; // no scenario chosen: the page sees the PMS as it is

    function toProxy(url) {
        try {
            var u = new URL(String(url), location.href);
            return u.origin === location.origin && u.pathname.indexOf("/api/proxy/") === 0;
        } catch (e) { return false; }
    }

    var XHR = window.XMLHttpRequest.prototype;
    var realOpen = XHR.open;
    var realSend = XHR.send;
    XHR.open = function (method, url) {
        this.__operateScenario = toProxy(url);
        return realOpen.apply(this, arguments);
    };
    XHR.send = function () {
        if (this.__operateScenario) this.setRequestHeader(HEADER, key);
        return realSend.apply(this, arguments);
    };

    var realFetch = window.fetch;
    if (realFetch) {
        window.fetch = function (input, init) {
            var url = typeof input === "string" ? input : (input && input.url) || String(input);
            if (!toProxy(url)) return realFetch.apply(this, arguments);
            var request;
            try {
                request = new Request(input, init);
            } catch (e) {
                return realFetch.apply(this, arguments); // what fetch itself says about such arguments
            }
            request.headers.set(HEADER, key);
            return realFetch.call(this, request);
        };
    }
})();
