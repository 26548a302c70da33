/*
 * What the portal adds beside its globals, loaded right after operate-host.js:
 *
 *   ko.bindingHandlers.nativeDropZone   files dropped on an element reach the widget's observable
 *   plugin configuration widgets        load(config) / validationErrorCount / save(), as the plugin settings blade
 *
 * Bootstrap 3's CSS and jQuery plugins are on the page too (the pinned vendor files; see widgets/vendor.py), and
 * the `_api` cookie holding the page's bearer token is set by the server (widgets/apicookie.py).
 * Which value shapes are accepted, and the manifest marker of a plugin configuration widget, are inferred from
 * public upload and settings widgets: docs/widgets.md names them.
 */
(function (window, document, $, ko) {
    "use strict";

    var state = window.__operate || {};
    var boot = JSON.parse(document.getElementById("operate-boot").textContent);

    function show(level, text, source) {  // the page's console panel (operate-host.js), devtools as a fallback
        if (typeof state.show === "function") state.show(level, text, source);
        else (level === "error" ? console.error : console.log)("[" + source + "] " + text);
    }

    // -- nativeDropZone ---------------------------------------------------------------------------------
    // `nativeDropZone: files`, where `files` is (inferred; the forms public upload widgets use):
    //   an observableArray               each dropped File is pushed onto it (what upload widgets list and post);
    //   another writable observable      it is set to the array of dropped Files;
    //   a function                       called as fn(files, event) with the view model as `this`;
    //   an options object                { files|value|target: one of the above, onDrop|drop|callback: a function,
    //                                      hoverClass|dragOverClass: css class while a file is over the element
    //                                      (default "dragover"), accept: ".pdf,image/*", multiple: false (the
    //                                      first file only), enabled|disabled: a boolean or an observable }.
    var DEFAULT_HOVER_CLASS = "dragover";
    var zones = 0;  // drop zones bound on the page, so a drop elsewhere can be told apart

    function hasFiles(event) {
        var types = event.dataTransfer && event.dataTransfer.types;
        return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
    }

    function optionsOf(value) {
        var raw = value;
        if (raw && typeof raw === "object" && !ko.isObservable(raw) && !Array.isArray(raw)) {
            return {
                target: raw.files || raw.value || raw.target,
                callback: raw.onDrop || raw.drop || raw.callback,
                hoverClass: raw.hoverClass || raw.dragOverClass || DEFAULT_HOVER_CLASS,
                accept: ko.unwrap(raw.accept) || "",
                multiple: ko.unwrap(raw.multiple) !== false,
                enabled: raw.disabled !== undefined ? !ko.unwrap(raw.disabled) : ko.unwrap(raw.enabled) !== false
            };
        }
        return { target: raw, callback: null, hoverClass: DEFAULT_HOVER_CLASS, accept: "", multiple: true, enabled: true };
    }

    function accepts(file, accept) {  // the rule of <input type=file accept>: extensions, exact types, type/*
        if (!accept) return true;
        var name = String(file.name || "").toLowerCase();
        var type = String(file.type || "").toLowerCase();
        return accept.split(",").some(function (token) {
            token = token.trim().toLowerCase();
            if (!token) return false;
            if (token.charAt(0) === ".") return name.slice(-token.length) === token;
            if (token.slice(-2) === "/*") return type.indexOf(token.slice(0, -1)) === 0;
            return type === token;
        });
    }

    function deliver(target, files, event, model, bindingName) {
        if (target === undefined || target === null) return false;
        if (ko.isObservable(target) && typeof target.push === "function") {
            files.forEach(function (f) { target.push(f); });  // one notification per file, as a push loop does
            return true;
        }
        if (ko.isWriteableObservable(target)) {
            target(files);
            return true;
        }
        if (typeof target === "function") {
            target.call(model, files, event);
            return true;
        }
        show("error", bindingName + ": the bound value is " + (ko.isObservable(target) ? "a read-only observable" : typeof target) +
            "; dropped files need an observableArray, a writable observable or a function (see /_emulator/fidelity)", "nativeDropZone");
        return false;
    }

    ko.bindingHandlers.nativeDropZone = {
        init: function (element, valueAccessor, allBindings, viewModel, bindingContext) {
            zones += 1;
            var depth = 0;  // dragenter/dragleave pairs of child elements
            var hoverClass = function () { return optionsOf(valueAccessor()).hoverClass; };
            function enter(event) {
                if (!hasFiles(event)) return;
                event.preventDefault();
                if (event.type === "dragenter") depth += 1;
                if (optionsOf(valueAccessor()).enabled) {
                    event.dataTransfer.dropEffect = "copy";
                    element.classList.add(hoverClass());
                } else {
                    event.dataTransfer.dropEffect = "none";
                }
            }
            function leave() {
                depth = Math.max(0, depth - 1);
                if (depth === 0) element.classList.remove(hoverClass());
            }
            function drop(event) {
                event.preventDefault();
                event.stopPropagation();
                depth = 0;
                element.classList.remove(hoverClass());
                var options = optionsOf(valueAccessor());
                var dropped = Array.prototype.slice.call((event.dataTransfer && event.dataTransfer.files) || []);
                if (!dropped.length) return;
                if (!options.enabled) {
                    show("warning", dropped.length + " file(s) dropped on a disabled drop zone were not taken", "nativeDropZone");
                    return;
                }
                var files = dropped.filter(function (f) { return accepts(f, options.accept); });
                var refused = dropped.filter(function (f) { return files.indexOf(f) < 0; });
                if (refused.length) {
                    show("warning", "not accepted (" + options.accept + "): " + refused.map(function (f) { return f.name; }).join(", "), "nativeDropZone");
                }
                if (!options.multiple) files = files.slice(0, 1);
                if (!files.length) return;
                var model = bindingContext ? bindingContext.$data : viewModel;
                var took = deliver(options.target, files, event, model, "nativeDropZone");
                if (options.callback) {
                    try { options.callback.call(model, files, event); took = true; } catch (e) { show("error", "the drop callback threw: " + e.message, "nativeDropZone"); }
                }
                if (took) {
                    show("debug", files.length + " file(s) dropped: " + files.map(function (f) { return f.name + " (" + f.size + " bytes)"; }).join(", "), "nativeDropZone");
                } else if (!options.target) {
                    show("error", "files were dropped but the binding names nothing to receive them (nativeDropZone: files)", "nativeDropZone");
                }
            }
            element.addEventListener("dragenter", enter);
            element.addEventListener("dragover", enter);
            element.addEventListener("dragleave", leave);
            element.addEventListener("drop", drop);
            ko.utils.domNodeDisposal.addDisposeCallback(element, function () {
                zones -= 1;
                element.removeEventListener("dragenter", enter);
                element.removeEventListener("dragover", enter);
                element.removeEventListener("dragleave", leave);
                element.removeEventListener("drop", drop);
            });
        }
    };

    // A file dropped beside a drop zone would make the browser leave the page to open it: the portal keeps the
    // page, and here the console panel says the file went nowhere.
    window.addEventListener("dragover", function (event) { if (zones > 0 && hasFiles(event)) event.preventDefault(); });
    window.addEventListener("drop", function (event) {
        if (zones === 0 || !hasFiles(event)) return;
        event.preventDefault();
        show("warning", "a file was dropped outside every drop zone and was ignored", "nativeDropZone");
    });

    // -- plugin configuration widgets ---------------------------------------------------------------------
    // A widget whose manifest says `"configuresPlugin": "<Plugin>"` (inferred marker) is driven the way the
    // portal's plugin settings blade drives it: load(config) with the plugin's stored configuration, Save
    // disabled while validationErrorCount() > 0, and on Save the configuration save() returns is stored.
    function errorCount(instance) {
        var counter = instance.validationErrorCount;
        if (counter === undefined || counter === null) return 0;
        var n = ko.isObservable(counter) ? counter() : typeof counter === "function" ? counter.call(instance) : counter;
        n = Number(n);
        return isNaN(n) ? 0 : n;
    }

    function pluginPanel(plugin, element) {
        var panel = document.createElement("section");
        panel.className = "op-plugin-settings panel panel-default";
        panel.setAttribute("data-plugin", plugin.name);
        panel.innerHTML = '<div class="panel-heading"><strong>Plugin settings</strong> · <code class="op-plugin-name"></code>' +
            ' <span class="op-plugin-source text-muted"></span></div>' +
            '<div class="panel-body"><button type="button" id="op-plugin-save" class="btn btn-primary">Save</button> ' +
            '<span class="op-plugin-status" role="status"></span>' +
            '<details class="op-plugin-stored"><summary>Stored configuration</summary><pre id="op-plugin-config"></pre></details></div>';
        panel.querySelector(".op-plugin-name").textContent = plugin.name;
        panel.querySelector(".op-plugin-source").textContent = "(" + plugin.source + ")";
        panel.querySelector("#op-plugin-config").textContent = JSON.stringify(plugin.configuration, null, 2);
        var section = element.closest("section.op-widget") || element;
        section.parentNode.insertBefore(panel, section);
        return panel;
    }

    function savePlugin(plugin, configuration) {
        return $.ajax({
            url: "/_harness/plugins/" + encodeURIComponent(plugin.name) + "/configuration",
            method: "PUT",
            contentType: "application/json",
            data: JSON.stringify(configuration === undefined ? null : configuration),
            dataType: "json"
        });
    }

    function drivePlugin(instance, element) {
        var plugin = boot.plugin;
        var panel = pluginPanel(plugin, element);
        var button = panel.querySelector("#op-plugin-save");
        var status = panel.querySelector(".op-plugin-status");
        if (typeof instance.load === "function") {
            try { instance.load($.extend(true, {}, plugin.configuration)); } catch (e) { show("error", plugin.widget + ".load(config) threw: " + e.message, "plugin"); }
        } else {
            show("warning", plugin.widget + " has no load(config): it was given no configuration", "plugin");
        }
        var blocked = ko.computed(function () { return errorCount(instance); });
        function reflect(count) {
            button.disabled = count > 0;
            status.textContent = count > 0 ? count + " validation error(s): fix them to save" : "";
        }
        reflect(blocked());
        blocked.subscribe(reflect);
        button.addEventListener("click", function () {
            if (errorCount(instance) > 0) return;
            if (typeof instance.save !== "function") {
                show("error", plugin.widget + " has no save(): the settings blade cannot read its configuration", "plugin");
                return;
            }
            var returned;
            try { returned = instance.save(); } catch (e) { show("error", plugin.widget + ".save() threw: " + e.message, "plugin"); return; }
            $.when(returned).then(function (configuration) {
                configuration = ko.toJS(configuration);
                return savePlugin(plugin, configuration).then(function (stored) {
                    panel.querySelector("#op-plugin-config").textContent = JSON.stringify(stored.configuration, null, 2);
                    panel.querySelector(".op-plugin-source").textContent = "(stored)";
                    panel.querySelector(".op-plugin-stored").open = true;
                    status.textContent = "Saved";
                    show("info", "configuration of plugin " + plugin.name + " saved", "plugin");
                });
            }).fail(function (xhr) {
                var body = xhr && xhr.responseJSON;
                show("error", "saving the configuration of plugin " + plugin.name + " failed: " + (body && (body.title || body.message) || (xhr && xhr.status) || xhr), "plugin");
            });
        });
    }

    $(document).on("operate:mounted", function (event, instance, slot, element) {
        if (!boot.plugin || !instance || !slot || !slot.manifest || slot.manifest.id !== boot.plugin.widget) return;
        drivePlugin(instance, element);
    });
})(window, document, window.jQuery, window.ko);
