// The platform's StringHelpers library, as the emulator provides it [inferred]: its functions are inferred
// from how public workflow actions call it (smartplans/helpers/helpers.json documents each one).
var StringHelpers = (function () {
  function lookup(values, path) {
    var value = values;
    var parts = path.split(".");
    for (var i = 0; i < parts.length; i++) {
      if (value === null || value === undefined) return undefined;
      value = value[parts[i]];
    }
    return value;
  }
  function asText(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "object" && typeof value.ToString === "function") return value.ToString();
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return {
    format: function (text, values) {
      var source = values === undefined || values === null ? ctx : values;
      return String(text === undefined || text === null ? "" : text).replace(/\{\{\s*([A-Za-z0-9_$.]+)\s*\}\}/g, function (_, path) {
        return asText(lookup(source, path.replace(/^ctx\./, "")));
      });
    },
    isNullOrEmpty: function (value) { return value === null || value === undefined || value === ""; },
    isNullOrWhiteSpace: function (value) { return value === null || value === undefined || String(value).trim() === ""; },
    padLeft: function (value, width, char) {
      var out = asText(value), fill = char === undefined || char === null || char === "" ? "0" : String(char);
      while (out.length < width) out = fill + out;
      return out;
    },
    join: function (separator, values) {
      return (values || []).filter(function (v) { return v !== null && v !== undefined && v !== ""; }).map(asText).join(separator);
    }
  };
})();
