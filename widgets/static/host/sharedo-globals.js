/*
 * The portal globals tenant widgets reach beyond the vendor's samples (loaded right after operate-host.js,
 * before any widget script):
 *
 *   Sharedo.Core.Case..., Sharedo.UI.Framework.Components...   the namespace, with stand-ins for the portal's
 *       own components (a labelled placeholder where they are given an element, a console line naming them)
 *   $ui.widgets.loadWidget/instances/lock/unlock/destroyWidget, $ui.util.dispose, $ui.stacks.lock/unlock,
 *   $ui.errorHandling.handleError, and `id`/`systemName` on the constructor's baseModel
 *   every call a widget makes with fetch, XMLHttpRequest or plain $.ajax: a failed one (network error or
 *       HTTP >= 400) is a console line naming method, URL and status; a pending one holds the bound mark
 *   a member of Sharedo, $ui or $ajax the emulator lacks: reading it is silent (probes, typeof, `in`, ?.),
 *       calling it says `not emulated: <name> - see /_emulator/fidelity` once, in the console panel
 *
 * The names, the stand-ins and what is proxied come from widgets/sharedo-globals.json (all inferred).
 * It builds on what operate-host.js exposes as window.__operate.host (show, settle, mount, hooks).
 */
(function (window, document, $, ko) {
    "use strict";

    var op = window.__operate;
    var host = op && op.host;
    if (!host) return;
    var boot = host.boot;
    var data = boot.sharedoGlobals || {};
    var FIDELITY = data.fidelityUrl || "/_emulator/fidelity";
    var proxied = data.proxied || {};

    style([
        ".op-standin { border: 1px dashed #9ca3af; border-radius: 4px; padding: .6em .9em; margin: .3em 0;",
        "  background: repeating-linear-gradient(45deg, #f9fafb, #f9fafb 8px, #f3f4f6 8px, #f3f4f6 16px); color: #374151; }",
        ".op-standin-missing { border-color: #f5b5b5; color: #7f1d1d; }",
        ".op-locked { position: relative; }",
        ".op-locked::after { content: attr(data-lock-reason); position: absolute; inset: 0; display: flex; align-items: center;",
        "  justify-content: center; background: rgba(255,255,255,.75); color: #1f4e79; font-weight: 600; z-index: 5; }",
        ".op-console a.op-fidelity-link { color: #93c5fd; }"
    ].join("\n"));

    function style(text) {
        var el = document.createElement("style");
        el.id = "op-sharedo-globals-style";
        el.textContent = text;
        document.head.appendChild(el);
    }

    // -- console lines ------------------------------------------------------------------------------
    function say(level, text, source) {
        host.show(level, text, source);
        linkFidelity();
    }

    // The line just shown: its mention of the fidelity page becomes a link to it.
    function linkFidelity() {
        var list = document.getElementById("op-console-lines");
        var text = list && list.lastChild && list.lastChild.lastChild;
        if (!text || text.nodeType !== 3) return;
        var at = text.data.indexOf(FIDELITY);
        if (at < 0) return;
        var rest = text.splitText(at);
        rest.data = rest.data.slice(FIDELITY.length);
        var link = document.createElement("a");
        link.href = FIDELITY;
        link.target = "_blank";
        link.className = "op-fidelity-link";
        link.textContent = FIDELITY;
        rest.parentNode.insertBefore(link, rest);
    }

    function describe(value) {
        if (value === undefined) return "undefined";
        if (value && value.nodeType === 1) return "<" + value.tagName.toLowerCase() + (value.id ? "#" + value.id : "") + ">";
        try { return JSON.stringify(value) || String(value); } catch (e) { return String(value); }
    }

    // -- not emulated: named stand-ins for absent members ---------------------------------------------
    op.notEmulated = Object.create(null);  // name -> times called (no inherited `constructor` to count as seen)
    var absentByPath = {};
    var absentSet = new WeakSet();
    var probeNames = {};
    (proxied.probeNames || []).forEach(function (n) { probeNames[n] = true; });
    var probePrefixes = proxied.probePrefixes || [];

    // Names libraries and engines probe for (then, toJSON, Symbol.*, __ko_proto__, jQuery's expando, ...):
    // absent, they answer undefined, so a probe never meets a stand-in.
    function isProbe(key) {
        if (typeof key !== "string") return true;
        if (probeNames[key]) return true;
        return probePrefixes.some(function (p) { return key.indexOf(p) === 0; });
    }

    // `args`: a constructor's arguments; the element among them gets a placeholder naming what is missing.
    function notEmulated(name, args) {
        var first = !op.notEmulated[name];
        op.notEmulated[name] = (op.notEmulated[name] || 0) + 1;
        if (first) say("error", "not emulated: " + name + " \u2014 see " + FIDELITY, "fidelity");
        var element = args ? elementIn(args) : null;
        if (element) placeholder(element, name, false);
    }

    // The stand-in for an absent member: silent to read (and to read further: `$ui.foo.bar`), a named
    // line when called or constructed. One per path, so what a widget sets on it stays there.
    function absent(path) {
        if (absentByPath[path]) return absentByPath[path];
        var target = function () {};
        var proxy = new Proxy(target, {
            get: function (t, key) {
                if (key in t) return Reflect.get(t, key);
                return isProbe(key) ? undefined : absent(path + "." + key);
            },
            apply: function () { notEmulated(path); return undefined; },
            construct: function (t, args) { notEmulated(path, args); return {}; }
        });
        absentSet.add(proxy);
        absentByPath[path] = proxy;
        return proxy;
    }

    function guard(object, path) {
        return new Proxy(object, {
            get: function (t, key, receiver) {
                if (key in t) return Reflect.get(t, key, receiver);
                return isProbe(key) ? undefined : absent(path + "." + key);
            }
        });
    }

    // A dotted name as the page holds it, never a stand-in: undefined when absent.
    function lookup(path) {
        return String(path).split(".").reduce(function (node, part) {
            if (node === null || node === undefined || !(part in Object(node))) return undefined;
            var value = node[part];
            return absentSet.has(value) ? undefined : value;
        }, window);
    }

    // namespace("Sharedo.X") adds to the global: it walks what is there and creates only what is missing
    // (a stand-in counts as missing), so the portal's own namespaces stay.
    window.namespace = function (path) {
        var node = window;
        String(path || "").split(".").forEach(function (part) {
            if (!part) return;
            var next = part in Object(node) ? node[part] : undefined;
            if (!next || absentSet.has(next)) {
                next = {};
                node[part] = next;
            }
            node = next;
        });
        return node;
    };

    // -- stand-ins and placeholders -------------------------------------------------------------------
    function elementIn(args) {
        var found = null;
        args.some(function (arg) {
            found = asElement(arg);
            if (!found && arg && typeof arg === "object" && !Array.isArray(arg)) {
                Object.keys(arg).some(function (key) {
                    var value = arg[key];
                    found = asElement(value) || (value && value.__operateStandIn ? asElement(value.element) : null);
                    return !!found;
                });
            }
            return !!found;
        });
        return found;
    }

    function asElement(value) {
        if (!value) return null;
        if (value.nodeType === 1) return value;
        if (value.jquery && value[0] && value[0].nodeType === 1) return value[0];
        if (typeof value === "string" && value.charAt(0) === "#") return document.getElementById(value.slice(1));
        return null;
    }

    function placeholder(element, name, standIn) {
        var box = document.createElement("div");
        box.className = "op-standin" + (standIn ? "" : " op-standin-missing");
        box.setAttribute("data-standin", name);
        box.setAttribute("role", "note");
        box.textContent = (standIn ? "Stand-in: " : "Not emulated: ") + name +
            (standIn ? " (the portal's own component is not emulated here)" : "");
        element.appendChild(box);
    }

    function standIn(name, spec) {
        var kind = spec.kind || "component";
        var Component = function () {
            var element = elementIn(Array.prototype.slice.call(arguments));
            this.__operateStandIn = name;
            this.element = element;
            if (element) placeholder(element, name, true);
            say("warning", "stand-in: " + name + " (" + kind + ") was asked for: a labelled placeholder here \u2014 see " + FIDELITY, "Sharedo");
        };
        Object.keys(spec.methods || {}).forEach(function (method) {
            var returns = spec.methods[method];
            Component.prototype[method] = function () {
                if (returns === "none") return undefined;
                say("info", "stand-in: " + name + "." + method + "() does nothing here", "Sharedo");
                return returns === "promise" ? $.Deferred().resolve().promise() : undefined;
            };
        });
        return Component;
    }

    // -- the Sharedo namespace -------------------------------------------------------------------------
    function buildSharedo() {
        var root = window.Sharedo && typeof window.Sharedo === "object" ? window.Sharedo : {};
        var ours = new Set([root]);
        function ensure(path) {  // path below Sharedo: plain objects for what is missing
            var node = root;
            path.forEach(function (part) {
                if (!node[part]) {
                    node[part] = {};
                    ours.add(node[part]);
                }
                node = node[part];
            });
            return node;
        }
        var namespaces = (data.namespaces && data.namespaces.value) || [];
        namespaces.forEach(function (ns) { ensure(ns.split(".").slice(1)); });
        var components = data.components || {};
        Object.keys(components).sort(function (a, b) { return a.split(".").length - b.split(".").length; }).forEach(function (name) {
            var parts = name.split(".").slice(1);
            var parent = ensure(parts.slice(0, -1));
            var Component = standIn(name, components[name]);
            parent[parts[parts.length - 1]] = Component;
            ours.add(Component);
        });
        function wrap(node, path) {  // every node of ours answers absent members by name
            Object.keys(node).forEach(function (key) {
                if (ours.has(node[key])) node[key] = wrap(node[key], path + "." + key);
            });
            return guard(node, path);
        }
        window.Sharedo = wrap(root, "Sharedo");
    }

    // -- $ui.widgets ----------------------------------------------------------------------------------
    var registry = [];  // {id, systemName, element, instance, handle, holder, destroyed}
    var made = 0;

    host.hooks.baseModel = function (manifest, element) {
        made += 1;
        var id = (element && element.id) || String(manifest.id).replace(/[^A-Za-z0-9_-]/g, "-") + "-" + made;
        if (element && !element.id) element.id = id;  // so "#" + base.id selects the widget's element
        return { id: id, systemName: manifest.id };
    };
    host.hooks.constructed = function (instance, manifest, element, baseModel) {
        registry.push({ id: baseModel.id, systemName: manifest.id, element: element, instance: instance });
    };

    function live() {
        return registry.filter(function (e) { return !e.destroyed && e.element && document.documentElement.contains(e.element); });
    }

    function entryFor(x) {
        if (!x) return null;
        var element = x.jquery ? x[0] : x;
        var found = null;
        registry.forEach(function (e) {
            if (!e.destroyed && (e.instance === x || e.handle === x || e.element === element || e.id === x)) found = e;
        });
        return found;
    }

    function containerFor(container) {
        if (!container) return null;
        if (container.jquery) return container[0] || null;
        if (container.nodeType === 1) return container;
        if (typeof container !== "string") return null;
        var byId = document.getElementById(container.charAt(0) === "#" ? container.slice(1) : container);
        if (byId) return byId;
        try { return document.querySelector(container); } catch (e) { return null; }
    }

    // A call the page waits for before it is marked bound, named in __operate.inflight until it settles.
    function track(label) {
        op.pending += 1;
        op.started += 1;
        var key = op.started;
        op.inflight[key] = label;
        var open = true;
        return function () {
            if (!open) return;
            open = false;
            delete op.inflight[key];
            host.settle();
        };
    }

    function loadWidget(widgetId, container, coreConfiguration, configuration, createdCallback) {
        var handle = { id: null, systemName: widgetId, element: null, instance: null, ready: null };
        var ready = $.Deferred();
        handle.ready = ready.promise();
        var target = containerFor(container);
        if (!target) {
            say("error", "$ui.widgets.loadWidget(\"" + widgetId + "\"): no container " + describe(container) + " on the page", "$ui.widgets");
            ready.reject();
            return handle;
        }
        // an id naming what every object has (`constructor`, `__proto__`, `Acme.toString`) is no widget
        var inherited = String(widgetId).split(".").some(function (part) { return part in Object.prototype; });
        var manifest = inherited ? null : ownMember(boot.widgets, widgetId) || ownMember(boot.panels, widgetId);
        if (!manifest && !inherited && typeof lookup(widgetId) === "function") {  // a stand-in, or a constructor already on the page
            manifest = { id: widgetId, scripts: [], styles: [], templates: [], menuTemplates: [], defaultConfiguration: {} };
        }
        var core = coreConfiguration || {};
        var holder = document.createElement("div");
        holder.className = "op-loaded-widget" + (core.withChrome ? " op-with-chrome" : "");
        holder.setAttribute("data-widget", widgetId);
        if (core.withChrome) {
            var head = document.createElement("header");
            head.className = "op-chrome";
            var icon = document.createElement("i");
            icon.className = "fa " + (core.icon || (manifest && manifest.icon) || "fa-puzzle-piece");
            icon.setAttribute("aria-hidden", "true");
            var title = document.createElement("span");
            title.className = "op-chrome-title";
            title.textContent = core.title || (manifest && manifest.title) || widgetId;
            head.appendChild(icon);
            head.appendChild(document.createTextNode(" "));
            head.appendChild(title);
            holder.appendChild(head);
        }
        var body = document.createElement("div");
        body.className = "op-widget-body";
        holder.appendChild(body);
        // the container holds one widget: what it held before is destroyed first (a reload replaces it)
        live().forEach(function (e) { if (target.contains(e.element)) destroyWidget(e.instance); });
        target.textContent = "";
        target.appendChild(holder);
        handle.element = body;
        if (!manifest) {
            notEmulated(widgetId, [body]);
            ready.reject();
            return handle;
        }
        var done = track("$ui.widgets.loadWidget " + widgetId);
        var config = $.extend({}, manifest.defaultConfiguration || {}, configuration || {});
        host.loadAll([manifest]).then(function () {
            return host.mount(manifest, body, config, { loadedBy: "$ui.widgets.loadWidget" });
        }).then(function (instance) {
            var entry = entryFor(instance);
            if (entry) {
                entry.handle = handle;
                entry.holder = holder;
                handle.id = entry.id;
            }
            handle.instance = instance;
            if (instance && typeof createdCallback === "function") {
                try { createdCallback(instance); } catch (e) {
                    say("error", "the callback given to $ui.widgets.loadWidget(\"" + widgetId + "\") threw: " + e.message, "$ui.widgets");
                }
            }
            ready.resolve(instance);
        }).always(done);
        return handle;
    }

    function ownMember(table, key) {
        return table && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : null;
    }

    function destroyWidget(x) {
        var entry = entryFor(x);
        if (!entry) {
            if (x && x.ready && typeof x.ready.state === "function" && x.ready.state() === "pending") {
                x.ready.done(function () { destroyWidget(x); });  // still loading: destroyed once it is there
                return;
            }
            say("warning", "$ui.widgets.destroyWidget: " + describeWidget(x) + " is not a live widget on this page", "$ui.widgets");
            return;
        }
        // the widgets it loaded into its own element go first, as they would with it
        live().forEach(function (e) {
            if (e !== entry && entry.element.contains(e.element)) destroyWidget(e.instance);
        });
        entry.destroyed = true;
        host.destroy(entry.instance, entry.element);
        Object.keys(op.widgets).forEach(function (key) { if (op.widgets[key] === entry.instance) delete op.widgets[key]; });
        if (entry.holder && entry.holder.parentNode) entry.holder.parentNode.removeChild(entry.holder);
        else entry.element.textContent = "";
    }

    function describeWidget(x) {
        if (x && x.systemName) return x.systemName;
        if (x && x.constructor && x.constructor !== Object) return "an instance";
        return describe(x);
    }

    function markBusy(element, reason) {
        element.classList.add("op-locked");
        element.setAttribute("data-locked", "true");
        element.setAttribute("aria-busy", "true");
        element.setAttribute("data-lock-reason", reason ? String(reason) : "Please wait\u2026");
    }

    function clearBusy(element) {
        element.classList.remove("op-locked");
        element.removeAttribute("data-locked");
        element.removeAttribute("aria-busy");
        element.removeAttribute("data-lock-reason");
    }

    function widgetElement(widget, verb) {
        var entry = entryFor(widget);
        if (!entry) say("warning", "$ui.widgets." + verb + ": " + describeWidget(widget) + " is not a live widget on this page", "$ui.widgets");
        return entry ? entry.element : null;
    }

    window.$ui.widgets = {
        loadWidget: loadWidget,
        instances: function () { return live().map(function (e) { return e.instance; }).filter(Boolean); },
        destroyWidget: destroyWidget,
        lock: function (widget, reason) {
            var element = widgetElement(widget, "lock");
            if (element) markBusy(element, reason);
        },
        unlock: function (widget) {
            var element = widgetElement(widget, "unlock");
            if (element) clearBusy(element);
        }
    };

    // -- $ui.stacks.lock/unlock: the blade the panel is on, else the top blade, else the page -----------
    function bladeFor(panel) {
        var entry = entryFor(panel);
        var blade = entry && entry.element.closest(".op-blade");
        if (blade) return blade;
        var blades = document.querySelectorAll("#op-stack .op-blade");
        return blades.length ? blades[blades.length - 1] : document.querySelector(".op-portal");
    }
    if (window.$ui.stacks) {
        window.$ui.stacks.lock = function (panel, reason) {
            var blade = bladeFor(panel);
            if (blade) markBusy(blade, reason);
        };
        window.$ui.stacks.unlock = function (panel) {
            var blade = bladeFor(panel);
            if (blade) clearBusy(blade);
        };
    }

    // -- $ui.util, $ui.errorHandling -----------------------------------------------------------------
    function dispose(x) {
        if (!x) return;
        if (typeof x.dispose === "function") {
            try { x.dispose(); } catch (e) { say("warning", "$ui.util.dispose: a disposable threw: " + e.message, "$ui.util"); }
            return;
        }
        if (Array.isArray(x)) x.forEach(dispose);
    }
    window.$ui.util = $.extend(window.$ui.util || {}, { dispose: dispose });
    window.$ui.errorHandling = $.extend(window.$ui.errorHandling || {}, {
        handleError: function (error) {
            var text = error && error.message ? error.message : describe(error);
            say("error", text, "$ui.errorHandling");
            host.toast("error", text);
        }
    });

    // -- every call a widget makes: fetch, XMLHttpRequest, plain $.ajax ------------------------------------
    // The host's own calls ($ajax, which reports its own; templates; /_harness/...) are left out.
    function hostCall(url) {
        try {
            var u = new URL(url, location.href);
            return u.origin === location.origin && u.pathname.indexOf("/_harness/") === 0;
        } catch (e) { return false; }
    }

    function shortUrl(url) {
        try {
            var u = new URL(url, location.href);
            return u.origin === location.origin ? u.pathname + u.search : u.href;
        } catch (e) { return String(url); }
    }

    function detail(text) {  // an Operate error body's title or message, as $ajax shows it
        try {
            var body = JSON.parse(text);
            var said = body && (body.title || body.message);
            return said ? " - " + said : "";
        } catch (e) { return ""; }
    }

    var realFetch = window.fetch;
    if (realFetch) {
        window.fetch = function (input, init) {
            var method = String((init && init.method) || (input && input.method) || "GET").toUpperCase();
            var url = typeof input === "string" ? input : (input && input.url) || String(input);
            if ((init && init.operateHost) || hostCall(url)) return realFetch.apply(this, arguments);
            var label = method + " " + shortUrl(url);
            var done = track("fetch " + label);
            var promise;
            try { promise = realFetch.apply(this, arguments); } catch (e) { done(); throw e; }
            promise.then(function (response) {
                if (response.status < 400) {
                    // the body is the widget's to read; the call has settled once it has arrived
                    return response.clone().arrayBuffer().then(done, done);
                }
                var line = "fetch " + label + " failed: " + response.status + " " + response.statusText;
                return response.clone().text().then(function (text) {
                    say("error", line + detail(text), "fetch");
                }, function () { say("error", line, "fetch"); }).then(done);
            }, function (error) {
                if (!error || error.name !== "AbortError") {
                    say("error", "fetch " + label + " failed: network error" + (error && error.message ? " (" + error.message + ")" : ""), "fetch");
                }
                done();
            });
            return promise;
        };
    }

    var XHR = window.XMLHttpRequest.prototype;
    var realOpen = XHR.open;
    var realSend = XHR.send;
    XHR.open = function (method, url) {
        this.__operateCall = { method: String(method || "GET").toUpperCase(), url: String(url) };
        return realOpen.apply(this, arguments);
    };
    XHR.send = function () {
        var call = this.__operateCall;
        if (!call || this.__operateHost || hostCall(call.url)) return realSend.apply(this, arguments);
        var xhr = this;
        var via = this.__operateVia || "XMLHttpRequest";
        var label = call.method + " " + shortUrl(call.url);
        var done = track(via + " " + label);
        var outcome = null;
        function seen(ev) {
            if (ev.type !== "loadend") {
                outcome = outcome || ev.type;
                return;
            }
            ["abort", "error", "timeout", "loadend"].forEach(function (t) { xhr.removeEventListener(t, seen); });
            var why = null;
            if (outcome === "timeout") why = "timed out";
            else if (outcome !== "abort" && xhr.status === 0) why = "network error";
            else if (outcome !== "abort" && xhr.status >= 400) {
                var text = "";
                try { text = xhr.responseText; } catch (e) { /* a binary responseType */ }
                why = xhr.status + " " + xhr.statusText + detail(text);
            }
            if (why) say("error", via + " " + label + " failed: " + why, via);
            done();
        }
        ["abort", "error", "timeout", "loadend"].forEach(function (t) { xhr.addEventListener(t, seen); });
        try { return realSend.apply(this, arguments); } catch (e) {
            ["abort", "error", "timeout", "loadend"].forEach(function (t) { xhr.removeEventListener(t, seen); });
            done();
            throw e;
        }
    };

    // jQuery makes its XHR through settings.xhr: the host's own calls say `operateHost: true`.
    $.ajaxPrefilter(function (options) {
        var make = options.xhr;
        var own = !!options.operateHost;
        options.xhr = function () {
            var xhr = make();
            if (xhr) {
                if (own) xhr.__operateHost = true;
                else xhr.__operateVia = "$.ajax";
            }
            return xhr;
        };
    });

    // -- last: the namespaces answer absent members by name ---------------------------------------------
    buildSharedo();
    (proxied.value || []).slice().sort(function (a, b) { return b.split(".").length - a.split(".").length; }).forEach(function (path) {
        var parts = path.split(".");
        var parent = parts.length === 1 ? window : lookup(parts.slice(0, -1).join("."));
        var name = parts[parts.length - 1];
        if (parent && parent[name] && typeof parent[name] === "object") parent[name] = guard(parent[name], path);
    });
})(window, document, window.jQuery, window.ko);
