let configuration = $model.Configuration;;
let connections = $model.Connections;;

if (!connections.execute) {
    log.Warning("Start step defined but has not been connected to a target step");
} else {
    if (configuration.now === undefined || configuration.now === true) {
        log.Information(`Executing step '${connections.execute.step}' immediately.`);
        trigger.SubProcess(connections.execute.step).Now();
    } else {
        log.Information(`Future execution`);

        if (configuration.startOnDateTimeVariable) {
            let startOn = DateTime.Parse(ctx[configuration.startOnDateTimeVariable]);

            log.Information(`Executing step '${connections.execute.step}' on '${startOn.ToString()}'.`);

            trigger.SubProcess(connections.execute.step).On(startOn);
        } else {
            if (!configuration.startInType) {
                log.Error(`Unable to start step in X, as startInType is not set`);
                return;
            }

            const startInInt = parseInt(configuration.startIn);

            if (isNaN(startInInt)) {
                throw("startIn is not an integer - unable to continue");
            }

            log.Information(`Executing step '${connections.execute.step}' in '${startInInt} $model.Configuration.startInType'.`);

            trigger.SubProcess(connections.execute.step).In(startInInt)["$model.Configuration.startInType"];
        }
    }
}

