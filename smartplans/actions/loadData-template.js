
let variableMappings = $model.Configuration.variableMappings;;
let collectionMappings = $model.Configuration.collectionMappings;;

let model =
{
    entityType: "$model.Configuration.workItemType",
    fields: [],
    allowParallelExecution: true,
    executeCalculatedFields: true,
    responseType: "flat",
    entityId: ctx["$model.Configuration.workItemId"]
}

variableMappings.forEach(function (m) {
    model.fields.push({ path: m.composerPath });
});

collectionMappings.forEach(function (m) {
    model.fields.push({ path: m.composerPath, includeFields: [{ path: m.propertyPath }] });
});

let httpResult = sharedo.http.post("/api/executionengine/graph/sharedo/query", model);
if (!httpResult.success)
    throw "Failed to load data from graph API - API returned '" + httpResult.status + "'";

let result = httpResult.body;

variableMappings.forEach(function (f) {
    ctx[f.variableSystemName] = result.data[f.composerPath];
    log.Information("LOAD " + f.variableSystemName + "[" + f.composerPath + "]:=" + result.data[f.composerPath]);
});

collectionMappings.forEach(function (f) {
    ctx[f.variableSystemName] = [];

    let dataArray = result.data[f.composerPath];

    if (dataArray && dataArray.length) {
        let logMessage = "LOADCOLLECTION " + f.variableSystemName + "[" + f.composerPath + "]:=[";

        dataArray.forEach(function (d) {
            ctx[f.variableSystemName].push(d[f.propertyPath]);

            logMessage += d[f.propertyPath] + ",";
        });

        logMessage += "]";

        log.Information(logMessage);
    }
});

