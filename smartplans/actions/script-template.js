$model.Configuration.script
