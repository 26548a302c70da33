/*
 * The portal host: what a real Operate portal page gives a widget, in the same names.
 *
 *   namespace("Demo01");  Demo01.MyWidget = function (element, configuration, baseModel) {...}
 *   $ajax.get/post/put/delete/rawPost(url[, body]), $ajax.api.get/post/put/patch/delete/request
 *   $ui.pageContext (ko-mapped), $ui.events, $ui.log, $ui.showError, $ui.showNotification, $ui.stacks
 *
 * Boot data comes from the page (#operate-boot): the signed-in user's token, the page context and the
 * widgets to place. Each widget is loaded the portal's way: styles, scripts and templates from its
 * manifest (/_ideFiles/...), `new Ctor(element, configuration, baseModel)`, ko.applyBindings, then
 * loadAndBind(). When every $ajax call they started has settled, the page is marked bound
 * (document.documentElement.dataset.operateBound, window.__operate.boundAt) for tests and benchmarks.
 * Errors and failed calls are shown in the console panel, not only in devtools. On a virtual clock the
 * page's `Date` reads the emulator's time (boot.virtualNow).
 * Choices where the real portal is unknown are in widgets/portal-globals.json.
 */
(function (window, document, $, ko) {
    "use strict";

    var boot = JSON.parse(document.getElementById("operate-boot").textContent);
    var session = boot.session;

    // The emulator's one clock reaches the page: on a virtual clock, `Date` (and moment, which reads it)
    // starts from the emulator's now and runs on from there, so what a widget works out from "today" (the
    // Clio agent's ageing) agrees with what the emulator and its fakes see. On a tenant it is the real time.
    if (boot.virtualNow) followClock(Date.parse(boot.virtualNow) - Date.now());

    function followClock(offset) {
        var RealDate = window.Date;
        var now = function () { return RealDate.now() + offset; };
        window.Date = new Proxy(RealDate, {
            construct: function (target, args, newTarget) {
                return Reflect.construct(target, args.length ? args : [now()], newTarget);
            },
            apply: function () { return new RealDate(now()).toString(); },
            get: function (target, key) { return key === "now" ? now : Reflect.get(target, key); }
        });
    }
    var state = {
        pending: 0, started: 0, bound: false, errors: 0, widgets: {}, marks: { host: window.performance.now() },
        log: [],  // the last 500 lines of every level
        errorLog: [],  // the errors, kept apart so that chatter cannot push one out (the last 500)
        inflight: {}  // $ajax calls not settled yet: id -> "GET /url", named when a page never settles
    };
    window.__operate = state;
    // What other host scripts (sharedo-globals.js) build on: the console panel, the bound count, mounting.
    state.host = { boot: boot, show: show, toast: toast, settle: settle, mount: mount, loadAll: loadAll, destroy: destroy, hooks: {} };

    // -- console panel ------------------------------------------------------------------------
    var lines = document.getElementById("op-console-lines");
    var counter = document.getElementById("op-console-count");

    function show(level, text, source) {
        var entry = { level: level, text: String(text), source: source || "", at: new Date().toISOString() };
        state.log.push(entry);
        if (state.log.length > 500) state.log.shift();
        if (level === "error") {
            state.errorLog.push(entry);
            if (state.errorLog.length > 500) state.errorLog.shift();
            state.errors += 1;
            counter.textContent = state.errors + (state.errors === 1 ? " error" : " errors");
            counter.setAttribute("data-errors", String(state.errors));
            document.getElementById("op-console").classList.add("op-has-errors");
        }
        if (!lines) return;
        var li = document.createElement("li");
        li.className = "op-line op-line-" + level;
        var tag = document.createElement("span");
        tag.className = "op-line-level";
        tag.textContent = level;
        li.appendChild(tag);
        li.appendChild(document.createTextNode(" " + (source ? "[" + source + "] " : "") + entry.text));
        lines.appendChild(li);
        while (lines.childNodes.length > 200) lines.removeChild(lines.firstChild);
    }
    state.show = show;  // the other host scripts (operate-bindings.js) write to the same panel
    document.getElementById("op-console-clear").addEventListener("click", function () {
        lines.textContent = "";
        state.errors = 0;
        counter.textContent = "0 errors";
        counter.setAttribute("data-errors", "0");
        document.getElementById("op-console").classList.remove("op-has-errors");
    });
    window.addEventListener("error", function (ev) {
        var where = ev.filename ? " (" + ev.filename.replace(location.origin, "") + ":" + ev.lineno + ")" : "";
        show("error", (ev.message || "script error") + where, "js");
    });
    window.addEventListener("error", function (ev) {  // a <script> or <link> of the page that failed to load
        var el = ev.target;
        if (el && el !== window && (el.tagName === "SCRIPT" || el.tagName === "LINK")) {
            show("error", (el.tagName === "SCRIPT" ? "script " : "stylesheet ") + (el.src || el.href).replace(location.origin, "") +
                " could not be loaded", "manifest");
        }
    }, true);
    window.addEventListener("unhandledrejection", function (ev) {
        var reason = ev.reason;
        show("error", "unhandled promise rejection: " + (reason && reason.message ? reason.message : describe(reason)), "js");
    });

    function describe(value) {
        if (value === undefined) return "undefined";
        if (value instanceof Error) return value.message + (value.stack ? "\n" + value.stack : "");
        if (value && value.status !== undefined && value.statusText !== undefined) return "HTTP " + value.status;
        try { return typeof value === "string" ? value : JSON.stringify(value); } catch (e) { return String(value); }
    }

    // -- namespace() --------------------------------------------------------------------------
    window.namespace = function (path) {
        var node = window;
        String(path || "").split(".").forEach(function (part) {
            if (!part) return;
            node[part] = node[part] || {};
            node = node[part];
        });
        return node;
    };

    function resolve(path) {
        return String(path).split(".").reduce(function (node, part) { return node == null ? undefined : node[part]; }, window);
    }

    // -- $ajax ----------------------------------------------------------------------------------
    function sameOrigin(url) {
        try { return new URL(url, location.href).origin === location.origin; } catch (e) { return false; }
    }

    function renewToken() {
        return $.ajax({ url: "/_harness/session", data: { user: session.user }, dataType: "json" }).then(function (fresh) {
            session = fresh;
            return fresh;
        }, function (xhr) {
            show("error", "the signed-in user's token expired and could not be renewed (" + xhr.status + ")", "$ajax");
            return xhr;
        });
    }

    // jQuery runs `then` callbacks in try/catch and only warns. A rejection passing through a `then` also
    // arrives here (jQuery rethrows it), so only thrown Errors count: a TypeError and its kin is a bug.
    var BUG = /^(Eval|Internal|Range|Reference|Syntax|Type|URI)Error$/;
    $.Deferred.exceptionHook = function (error) {
        if (!(error instanceof Error)) return;
        show(BUG.test(error.name) ? "error" : "warning", "exception in a promise callback: " + describe(error), "js");
    };

    function settle() {
        state.pending -= 1;
        if (state.pending === 0) checkBound();
    }

    // Resolves with the parsed body (null when empty, as some Operate routes answer 200 with nothing) or
    // rejects with the jqXHR; done/fail run synchronously, so the widget's own callbacks come no later.
    function send(method, url, body, raw, retried) {
        var settings = { url: url, method: method, dataType: "text", headers: {}, operateHost: true };
        if (session.token && sameOrigin(url)) settings.headers.Authorization = "Bearer " + session.token;
        if (raw) {
            settings.data = body;
            settings.processData = false;
            settings.contentType = false;
        } else if (body !== undefined && method !== "GET" && method !== "DELETE") {
            settings.data = typeof body === "string" ? body : JSON.stringify(body);
            settings.contentType = "application/json";
        }
        var result = $.Deferred();
        $.ajax(settings).done(function (text, status, xhr) {
            var parsed = null;
            var json = /json/i.test(xhr.getResponseHeader("Content-Type") || "");
            if (text) {
                try {
                    parsed = JSON.parse(text);
                } catch (e) {
                    if (json) {  // a JSON answer that does not parse is a failure, as jQuery's dataType "json" has it
                        show("error", method + " " + url + " answered " + xhr.status + " with JSON that does not parse: " + e.message, "$ajax");
                        xhr.parseError = e.message;
                        result.reject(xhr, "parsererror", e);
                        return;
                    }
                    parsed = text;
                }
            }
            result.resolve(parsed, status, xhr);
        }).fail(function (xhr, status, error) {
            if (xhr.status === 401 && !retried && session.user && sameOrigin(url)) {
                renewToken().done(function () {
                    send(method, url, body, raw, true).done(result.resolve).fail(result.reject);
                }).fail(function () { result.reject(xhr, status, error); });
                return;
            }
            if (xhr.responseJSON === undefined && xhr.responseText) {
                try { xhr.responseJSON = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
            }
            var detail = xhr.responseJSON && (xhr.responseJSON.title || xhr.responseJSON.message);
            show("error", method + " " + url + " failed: " + (xhr.status ? xhr.status + " " + (xhr.statusText || "") : status) +
                (detail ? " - " + detail : ""), "$ajax");
            result.reject(xhr, status, error);
        });
        return result.promise();
    }

    function call(method, url, body, raw) {
        state.pending += 1;
        state.started += 1;
        var id = state.started;
        state.inflight[id] = method + " " + url;
        var promise = send(method, url, body, raw, false);
        promise.always(function () { delete state.inflight[id]; settle(); });
        return promise;
    }

    window.$ajax = {
        get: function (url) { return call("GET", url); },
        post: function (url, body) { return call("POST", url, body); },
        put: function (url, body) { return call("PUT", url, body); },
        patch: function (url, body) { return call("PATCH", url, body); },
        "delete": function (url, body) { return call("DELETE", url, body); },
        rawPost: function (url, formData) { return call("POST", url, formData, true); }
    };
    window.$ajax.api = {
        get: window.$ajax.get,
        post: window.$ajax.post,
        put: window.$ajax.put,
        patch: window.$ajax.patch,
        "delete": window.$ajax["delete"],
        request: function (method, url, body) {
            if (typeof method === "object" && method) return call(String(method.method || "GET").toUpperCase(), method.url, method.data);
            return call(String(method || "GET").toUpperCase(), url, body);
        }
    };

    // -- $ui ----------------------------------------------------------------------------------
    var subscribers = {};
    var events = {
        subscribe: function (name, fn, context) {
            var token = { name: name, fn: fn, context: context };
            token.dispose = function () { events.unsubscribe(token); };
            (subscribers[name] = subscribers[name] || []).push(token);
            return token;
        },
        unsubscribe: function (token, fn) {
            if (typeof token === "string") {
                subscribers[token] = (subscribers[token] || []).filter(function (t) { return fn && t.fn !== fn; });
                return;
            }
            if (!token || !subscribers[token.name]) return;
            subscribers[token.name] = subscribers[token.name].filter(function (t) { return t !== token; });
        },
        publish: function (name, data) {
            (subscribers[name] || []).slice().forEach(function (t) {
                try { t.fn.call(t.context, data, name); } catch (e) { show("error", "a subscriber to " + name + " threw: " + e.message, "$ui.events"); }
            });
        }
    };
    events.broadcast = events.publish;

    function toast(kind, text) {
        var box = document.getElementById("op-toasts");
        var item = document.createElement("div");
        item.className = "op-toast op-toast-" + kind;
        item.setAttribute("role", kind === "error" ? "alert" : "status");
        item.textContent = String(text);
        box.appendChild(item);
        setTimeout(function () { if (item.parentNode) item.parentNode.removeChild(item); }, 8000);
    }

    function logger(level, consoleFn) {
        return function () {
            var text = Array.prototype.map.call(arguments, describe).join(" ");
            show(level, text, "$ui.log");
            consoleFn.apply(window.console, arguments);
        };
    }

    window.$ui = {
        pageContext: ko.mapping ? ko.mapping.fromJS(boot.pageContext) : boot.pageContext,
        events: events,
        eventManager: events,
        log: {
            debug: logger("debug", console.debug),
            info: logger("info", console.info),
            warning: logger("warning", console.warn),
            warn: logger("warning", console.warn),
            error: logger("error", console.warn)
        },
        showError: function (message) { show("error", describe(message), "$ui.showError"); toast("error", describe(message)); },
        showNotification: function (message) { toast("info", typeof message === "object" && message ? (message.message || message.title || describe(message)) : message); },
        startWaitingFor: function () {},
        stopWaitingFor: function () {},
        stacks: null,
        widgets: null
    };

    // -- what the portal's framework adds: bindings, components, Validator ------------------------
    var context = boot.pageContext;

    function money(value) {
        var n = Number(ko.unwrap(value));
        if (value === null || value === undefined || isNaN(n)) return "";
        try {
            return new Intl.NumberFormat(context.localisation.defaultCultureCode, { style: "currency", currency: context.contextCurrencyCode }).format(n);
        } catch (e) {
            return n.toFixed(2);
        }
    }

    // `widgetChrome: {icon, title}`: a titled panel around the element's own content.
    ko.bindingHandlers.widgetChrome = {
        init: function (element, valueAccessor) {
            var options = ko.unwrap(valueAccessor()) || {};
            var head = document.createElement("div");
            head.className = "op-inline-chrome";
            var icon = document.createElement("i");
            icon.className = "fa " + String(ko.unwrap(options.icon) || "");
            icon.setAttribute("aria-hidden", "true");
            var title = document.createElement("span");
            title.className = "op-inline-chrome-title";
            title.textContent = " " + String(ko.unwrap(options.title) || "");
            head.appendChild(icon);
            head.appendChild(title);
            element.classList.add("op-inline-chrome-box");
            element.insertBefore(head, element.firstChild);
        }
    };
    // `currency: value` shows money in the page's culture and currency; on an input it edits a number.
    ko.bindingHandlers.currency = {
        init: function (element, valueAccessor) {
            if (element.tagName !== "INPUT") return;
            element.addEventListener("change", function () {
                var target = valueAccessor();
                var parsed = parseFloat(String(element.value).replace(/[^0-9.\-]/g, ""));
                if (ko.isWriteableObservable(target)) target(isNaN(parsed) ? null : parsed);
            });
        },
        update: function (element, valueAccessor) {
            var text = money(valueAccessor());
            if (element.tagName === "INPUT") element.value = ko.unwrap(valueAccessor()) == null ? "" : ko.unwrap(valueAccessor());
            else element.textContent = text;
        }
    };
    // `date: value, format: 'DD/MM/YYYY'` (moment's format tokens).
    ko.bindingHandlers.date = {
        update: function (element, valueAccessor, allBindings) {
            var value = ko.unwrap(valueAccessor());
            var format = allBindings.get("format") || context.localisation.defaultDateFormat || "DD/MM/YYYY";
            element.textContent = value ? window.moment(value).format(ko.unwrap(format)) : "";
        }
    };

    window.Validator = window.Validator || {
        // Validator.required(model, observable, message): adds an error while the observable is empty.
        required: function (model, observable, message) {
            var error = ko.pureComputed(function () {
                var v = ko.unwrap(observable);
                return v === null || v === undefined || (typeof v === "string" && !v.trim()) ? message : null;
            });
            observable.validationMessage = error;
            if (model && ko.isObservable(model.validationErrorCount) && !ko.isComputed(model.validationErrorCount)) {
                error.subscribe(function () { model.validationErrorCount(countErrors(model)); });
            }
            (model.__validators = model.__validators || []).push(error);
            return error;
        }
    };
    function countErrors(model) {
        return (model.__validators || []).filter(function (e) { return e(); }).length;
    }

    // Components.Core.RibbonBar: a blade's button bar (`createAddSection(...).createAddButton(...)`).
    function RibbonButton(label, action, css, icon, options) {
        this.label = label;
        this.action = action;
        this.css = css || "btn-default";
        this.icon = icon || "";
        this.disabled = (options && options.disabled) || ko.observable(false);
        this.click = function () { if (!ko.unwrap(this.disabled) && this.action) this.action(); }.bind(this);
    }
    function RibbonSection(title, icon, visible, buttons) {
        this.title = title || "";
        this.icon = icon || "";
        this.visible = visible !== false;
        this.buttons = ko.observableArray(buttons || []);
    }
    RibbonSection.prototype.createAddButton = function (label, action, css, icon) {
        var button = new RibbonButton(label, action, css, icon);
        this.buttons.push(button);
        return button;
    };
    function Ribbon(options, sections) {
        this.options = options || {};
        this.sections = ko.observableArray(sections || []);
    }
    Ribbon.prototype.createAddSection = function (title, icon, visible) {
        var section = new RibbonSection(title, icon, visible);
        this.sections.push(section);
        return section;
    };
    window.Components = window.Components || {};
    window.Components.Core = window.Components.Core || {};
    window.Components.Core.RibbonBar = {
        Ribbon: Ribbon,
        Section: function (title, buttons) { return new RibbonSection(title, null, true, buttons); },
        Button: function (o) { return new RibbonButton(o.label || o.title, o.action || o.click, o.css, o.icon, o); },
        RibbonAlignment: { Left: "left", Right: "right" }
    };
    if (!ko.components.isRegistered("ribbon")) {
        ko.components.register("ribbon", {
            viewModel: function (params) { this.ribbon = ko.unwrap(params.ribbon); },
            template: '<div class="op-ribbon"><!-- ko foreach: ribbon ? ribbon.sections : [] --><span class="op-ribbon-section">' +
                '<!-- ko foreach: buttons --><button type="button" class="btn" data-bind="css: css, click: click, disable: disabled">' +
                '<span data-bind="attr: {\'class\': \'fa \' + icon}"></span> <span data-bind="text: label"></span></button>' +
                '<!-- /ko --></span><!-- /ko --></div>'
        });
    }

    // -- loading a manifest's files -------------------------------------------------------------
    var loadedScripts = {};
    var loadedStyles = {};

    function loadScript(src) {
        if (loadedScripts[src]) return loadedScripts[src];
        var d = $.Deferred();
        var el = document.createElement("script");
        el.src = src;
        el.async = false;
        el.onload = function () { d.resolve(); };
        el.onerror = function () { show("error", "script " + src + " could not be loaded", "manifest"); d.resolve(); };
        document.body.appendChild(el);
        loadedScripts[src] = d.promise();
        return loadedScripts[src];
    }

    function loadStyle(href) {
        if (loadedStyles[href]) return;
        loadedStyles[href] = true;
        var el = document.createElement("link");
        el.rel = "stylesheet";
        el.href = href;
        el.onerror = function () { show("error", "stylesheet " + href + " could not be loaded", "manifest"); };
        document.head.appendChild(el);
    }

    var templateCache = {};
    function loadTemplate(href) {
        if (!templateCache[href]) templateCache[href] = fetchTemplate(href);
        return templateCache[href];
    }
    function fetchTemplate(href) {
        return $.ajax({ url: href, dataType: "text", operateHost: true }).then(
            function (text) { return text; },
            function (xhr) {
                show("warning", "template " + href + " could not be loaded (" + xhr.status + ")", "manifest");
                return $.Deferred().resolve("");
            }
        );
    }

    // Loads every script a manifest lists: fetched at once, run in the listed order (async=false), the way
    // the portal's bundle runs them. Scripts the page itself already carries (boot.preloaded) are not fetched again.
    (boot.preloaded || []).forEach(function (src) { loadedScripts[src] = $.Deferred().resolve().promise(); });
    (boot.preloadedStyles || []).forEach(function (href) { loadedStyles[href] = true; });
    function loadAll(manifests) {
        manifests.forEach(function (m) { (m.styles || []).forEach(loadStyle); (m.templates || []).forEach(loadTemplate); });
        var pending = [];
        manifests.forEach(function (m) { (m.scripts || []).forEach(function (src) { pending.push(loadScript(src)); }); });
        return $.when.apply($, pending);
    }

    // A template file is the widget's markup, or named Knockout templates (<script type="text/html" id>)
    // that the page keeps for `template: {name}` bindings; with only named ones, the widget's own id names its markup.
    function markupFor(manifest, texts) {
        var store = document.getElementById("op-templates");
        var markup = [];
        texts.forEach(function (text) {
            var holder = document.createElement("div");
            holder.innerHTML = text;
            Array.prototype.slice.call(holder.querySelectorAll('script[type="text/html"]')).forEach(function (script) {
                if (script.id && !document.getElementById(script.id)) store.appendChild(script);
                else if (script.parentNode) script.parentNode.removeChild(script);
            });
            if (holder.innerHTML.trim()) markup.push(holder.innerHTML);
        });
        if (!markup.length) {
            var named = document.getElementById(manifest.id);
            if (named) markup.push(named.innerHTML);
        }
        return markup.join("\n");
    }

    // -- constructing widgets -----------------------------------------------------------------
    function construct(manifest, element, configuration, extra) {
        var Ctor = resolve(manifest.id);
        if (typeof Ctor !== "function") {
            throw new Error("no constructor " + manifest.id + " after loading its scripts (the manifest id must name it)");
        }
        var hooks = state.host.hooks;
        var baseModel = $.extend({ pageContext: window.$ui.pageContext, placement: extra || {} },
            hooks.baseModel ? hooks.baseModel(manifest, element) : {});
        var instance = new Ctor(element, configuration, baseModel);
        if (hooks.constructed) hooks.constructed(instance, manifest, element, baseModel);
        return instance;
    }

    function fail(element, text) {
        var box = document.createElement("div");
        box.className = "op-problem";
        box.setAttribute("role", "alert");
        box.textContent = text;
        element.appendChild(box);
        show("error", text, "widget");
    }

    function mount(manifest, element, configuration, extra) {
        var templates = manifest.templates || [];
        var menus = manifest.menuTemplates || [];
        var result = $.Deferred();  // done callbacks, not then: no timer turn between loading and binding
        $.when.apply($, templates.concat(menus).map(loadTemplate)).done(function () {
            var texts = Array.prototype.slice.call(arguments, 0, templates.length + menus.length);
            element.innerHTML = markupFor(manifest, texts.slice(0, templates.length));
            var menu = null;
            if (menus.length) {  // a widget's menu templates sit above it, bound to the same model
                menu = document.createElement("div");
                menu.className = "op-widget-menu";
                menu.innerHTML = texts.slice(templates.length).join("\n");
                element.parentNode.insertBefore(menu, element);
            }
            var instance;
            try {
                instance = construct(manifest, element, configuration, extra);
            } catch (e) {
                fail(element, manifest.id + " could not be constructed: " + e.message);
                result.resolve(null);
                return;
            }
            try {
                ko.applyBindings(instance, element);
                if (menu) ko.applyBindings(instance, menu);
            } catch (e) {
                fail(element, manifest.id + ": binding its template failed: " + e.message);
                result.resolve(instance);
                return;
            }
            if (typeof instance.loadAndBind === "function") {
                try { instance.loadAndBind(); } catch (e) { fail(element, manifest.id + ".loadAndBind threw: " + e.message); }
            }
            result.resolve(instance);
        });
        return result.promise();
    }

    function destroy(instance, element) {
        if (instance && typeof instance.onDestroy === "function") {
            try { instance.onDestroy(); } catch (e) { show("error", "onDestroy threw: " + e.message, "widget"); }
        }
        if (element) ko.cleanNode(element);
    }

    // -- blades: $ui.stacks --------------------------------------------------------------------
    var stack = [];
    window.$ui.stacks = {
        openPanel: function (panelId, configuration) {
            var manifest = boot.panels[panelId] || boot.widgets[panelId];
            var done = $.Deferred();
            if (!manifest) {
                show("error", "$ui.stacks.openPanel: no blade " + panelId + " (a " + panelId + ".panel.json in _IDE)", "$ui.stacks");
                return done.reject().promise();
            }
            var blade = document.createElement("section");
            blade.className = "op-blade";
            blade.setAttribute("data-panel", panelId);
            blade.style.width = manifest.width ? manifest.width + "px" : "";
            var close = document.createElement("button");  // the stack's own close, whatever the blade does
            close.type = "button";
            close.className = "op-blade-close";
            close.setAttribute("aria-label", "Close");
            close.textContent = "\u00d7";
            blade.appendChild(close);
            var body = document.createElement("div");
            body.className = "op-blade-body";
            blade.appendChild(body);
            document.getElementById("op-stack").appendChild(blade);
            var entry = { id: panelId, element: blade, body: body, deferred: done, instance: null };
            stack.push(entry);
            close.addEventListener("click", function () { closeEntry(entry, { action: "Cancelled" }, "cancel"); });
            loadAll([manifest]).then(function () {
                return mount(manifest, body, $.extend(true, {}, configuration || {}), { panel: panelId });
            }).then(function (instance) { entry.instance = instance; });
            return done.promise();
        },
        close: function (instance, result) { closeBlade(instance, result, "close"); },
        cancel: function (instance) { closeBlade(instance, { action: "Cancelled" }, "cancel"); },
        cancelAll: function () { stack.slice().reverse().forEach(function (e) { closeBlade(e.instance, { action: "Cancelled" }, "cancel"); }); }
    };

    function closeBlade(instance, result, how) {
        var found = null;
        stack.forEach(function (e) { if (e.instance === instance) found = e; });
        found = found || stack[stack.length - 1];
        if (found) closeEntry(found, result, how);
    }

    function closeEntry(entry, result, how) {
        var index = stack.indexOf(entry);
        if (index < 0) return;
        stack.splice(index, 1);
        destroy(entry.instance, entry.body);
        if (entry.element.parentNode) entry.element.parentNode.removeChild(entry.element);
        entry.deferred.resolve(result, how);
    }

    // -- marking the moment data is bound --------------------------------------------------------
    // Knockout writes the DOM as soon as a widget sets its observables, so the moment data is bound is
    // the last change to the widgets' DOM before the page goes quiet: no $ajax call pending or started
    // and no DOM change for QUIET_MS. A handler that chains another call simply restarts the wait.
    var QUIET_MS = 30;
    var mounted = false;
    var lastChange = 0;
    var quietTimer = null;
    new MutationObserver(function () { lastChange = window.performance.now(); }).observe(
        document.querySelector(".op-portal") || document.body,
        { childList: true, subtree: true, characterData: true, attributes: true }
    );
    function checkBound() {
        if (!mounted || state.bound || state.pending > 0 || quietTimer) return;
        var started = state.started;
        var seen = lastChange;
        quietTimer = setTimeout(function () {
            quietTimer = null;
            if (state.bound || state.pending > 0) return;
            if (state.started !== started || lastChange !== seen) { checkBound(); return; }
            state.bound = true;
            state.boundAt = Math.max(lastChange, state.marks.mounted || 0);
            document.documentElement.setAttribute("data-operate-bound", "true");
        }, QUIET_MS);
    }

    // -- designer (configuration) widgets and aspect widgets --------------------------------------
    function configure(slot, instanceHolder) {
        var designerId = slot.manifest.configurationWidget;
        var designer = boot.widgets[designerId] || boot.panels[designerId];
        if (!designer) {
            show("error", "configuration widget " + designerId + " is not in the IDE", "designer");
            return;
        }
        var config = $.extend(true, {}, slot.configuration, {
            blade: null,
            __scope: { mode: boot.workTypeSystemName ? "sharedoType" : "globalPortal", sharedoTypeSystemName: boot.workTypeSystemName }
        });
        var blade = document.createElement("section");
        blade.className = "op-blade op-designer";
        blade.innerHTML = '<header class="op-chrome">Configure <span class="op-chrome-title"></span></header>' +
            '<div class="op-blade-body"></div><footer><span class="op-designer-errors"></span> ' +
            '<button type="button" data-action="apply">Apply</button> <button type="button" data-action="cancel">Cancel</button></footer>';
        blade.querySelector(".op-chrome-title").textContent = slot.manifest.title;
        document.getElementById("op-stack").appendChild(blade);
        var body = blade.querySelector(".op-blade-body");
        var designerInstance = null;
        loadAll([designer]).then(function () { return mount(designer, body, config, { designerFor: slot.widget }); })
            .then(function (instance) { designerInstance = instance; });
        blade.querySelector('[data-action="cancel"]').addEventListener("click", function () {
            destroy(designerInstance, body);
            blade.parentNode.removeChild(blade);
        });
        blade.querySelector('[data-action="apply"]').addEventListener("click", function () {
            var count = designerInstance && designerInstance.validationErrorCount ? ko.unwrap(designerInstance.validationErrorCount) : 0;
            if (count > 0) {
                blade.querySelector(".op-designer-errors").textContent = count + " validation error(s): fix them to apply";
                return;
            }
            var model = designerInstance && typeof designerInstance.getModel === "function" ? designerInstance.getModel() : config;
            model = ko.toJS(model);
            delete model.blade;
            delete model.__scope;
            var url = new URL(location.href);
            url.searchParams.set("config", JSON.stringify(model));
            location.assign(url.pathname + url.search);
        });
    }

    // Aspect widgets: widgets/static/host/aspect-host.js gives them `_host` and drives Save and Reload.
    function aspectHost(configuration) {
        return window.OperateAspects.host(configuration, { boot: boot, show: show, toast: toast });
    }

    function bindAspectSave(instances) {
        if (boot.mode === "aspect") window.OperateAspects.bind(instances);
    }

    // -- live reload ------------------------------------------------------------------------------
    function watch(rendered) {  // `rendered`: the files' newest change when the server rendered this page
        var reloading = false;
        setInterval(function () {
            $.ajax({ url: "/_harness/changes", dataType: "json" }).done(function (answer) {
                if (answer.stamp !== rendered && !reloading) {
                    reloading = true;
                    location.reload();
                }
            });
        }, 1000);
    }

    // -- boot ---------------------------------------------------------------------------------------
    var runnable = boot.slots.filter(function (s) { return s.manifest && !s.problem; });
    runnable.forEach(function (s) { (s.manifest.templates || []).concat(s.manifest.menuTemplates || []).forEach(loadTemplate); });
    var mountedInstances = [];
    $(function () { boot.slots.forEach(function (s) { if (s.problem) show("error", s.problem, "page"); }); });
    $(function () {  // the widget scripts the page carries have run by now
        state.marks.scripts = window.performance.now();
        loadAll(runnable.map(function (s) { return s.manifest; })).done(function () {
            var all = runnable.map(function (slot) {
                var element = document.querySelector("#op-slot-" + slot.key + " .op-widget-body");
                var configuration = $.extend(true, {}, slot.configuration);
                var done = $.Deferred();
                var hosted = boot.mode === "aspect" ? aspectHost(configuration) : $.Deferred().resolve().promise();
                hosted.always(function () {
                    mount(slot.manifest, element, configuration, { zone: slot.zone, key: slot.key }).done(function (instance) {
                        state.widgets[slot.key] = instance;
                        $(document).trigger("operate:mounted", [instance, slot, element]);  // operate-bindings.js
                        mountedInstances.push({ instance: instance, configuration: configuration, id: slot.widget });
                        done.resolve(instance);
                    });
                });
                return done.promise();
            });
            $.when.apply($, all).done(function () {
                state.marks.mounted = window.performance.now();
                mounted = true;
                checkBound();
                bindAspectSave(mountedInstances);
                var configureButton = document.getElementById("op-configure");
                if (configureButton && runnable[0]) configureButton.addEventListener("click", function () { configure(runnable[0]); });
            });
        });
    });
    if (boot.live !== null) watch(boot.live);
    // Leaving the page destroys every widget (onDestroy), as the portal does when it navigates away.
    state.destroy = function () {
        Object.keys(state.widgets).forEach(function (key) {
            var element = document.querySelector("#op-slot-" + key + " .op-widget-body");
            destroy(state.widgets[key], element);
            delete state.widgets[key];
        });
    };
    window.addEventListener("pagehide", state.destroy);
})(window, document, window.jQuery, window.ko);
