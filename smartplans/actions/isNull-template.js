let configuration = $model.Configuration;;
let connections = $model.Connections;;
let value = ctx[configuration.variable];
if (value === null || value === undefined || value === "") {
    if (configuration.logMessage) log.Information(configuration.logMessage);
    if (connections.execute) trigger.SubProcess(connections.execute.step).Now();
    return;
}
