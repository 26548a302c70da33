
// $each.Model.Configuration.variables
    {
        let variableValue = ctx["$current"];
        
        if (variableValue && variableValue.ToString) {
            variableValue = variableValue.ToString();
        }

        log.Information("Current value of $current is:" + variableValue);
    }

// $endeach