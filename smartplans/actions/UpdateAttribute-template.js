let workItemId = ctx["$model.Configuration.workItemIdVariable"];
let newValue = sharedo.buildString("$model.Configuration.newValue");
let attributeSystemName = "$model.Configuration.attributeSystemName";

// $ifNotNull.Configuration.newValueVariable
newValue = ctx["$model.Configuration.newValueVariable"];
// $endif

log.Information(`Updating attribute '${attributeSystemName}' to '${newValue}' for work item '${workItemId}'`);

let model = {
    value: newValue
};

let httpResult = sharedo.http.post(`/api/v1/public/workItem/${workItemId}/attributes/${attributeSystemName}/`, model);
if (!httpResult.success)
    throw "Failed to update attribute - API returned '" + httpResult.status + "'";
