// The platform's PhaseHelpers library, as the emulator provides it [inferred]: its functions are inferred
// from how public workflow actions call it (smartplans/helpers/helpers.json documents each one).
var PhaseHelpers = (function () {
  function call(method, url, body) {
    var response = method === "GET" ? sharedo.http.get(url) : sharedo.http.post(url, body);
    if (!response.success) {
      throw new Error("PhaseHelpers: " + method + " " + url + " answered " + response.status + ": " + JSON.stringify(response.body));
    }
    return response.body;
  }
  var helpers = {
    getCurrentPhase: function (workItemId) {
      return call("GET", "/api/v1/public/workItem/" + workItemId + "/phase").systemName;
    },
    getWorkType: function (workItemId) {
      return call("GET", "/api/v1/public/workItem/" + workItemId).workItem.sharedoTypeSystemName;
    },
    getEnabledPhases: function (feature, workTypeSystemName) {
      return call("GET", "/api/featureframework/flags/" + encodeURIComponent(feature) + "/" +
        encodeURIComponent(workTypeSystemName) + "/enabledPhases");
    },
    isFeatureEnabled: function (feature, workItemId) {
      var phases = helpers.getEnabledPhases(feature, helpers.getWorkType(workItemId));
      return phases.indexOf(helpers.getCurrentPhase(workItemId)) >= 0;
    },
    jumpToPhase: function (workItemId, phaseSystemName, reason) {
      return call("POST", "/api/sharedo/" + workItemId + "/phase/jumpTo",
        { toPhaseSystemName: phaseSystemName, reason: reason === undefined ? null : reason });
    }
  };
  return helpers;
})();
