let connections = $model.Connections;;
    
// $each.Model.Configuration.conditions
if ($current.condition) 
{
    if (!connections["$current.conditionName"]) 
    {
        log.Warning("If condition configured but not connected '$current.condition' - '$current.label' - '$current.condition'")
    } 
    else 
    {
        trigger.SubProcess(connections["$current.conditionName"].step).Now();
    }
    
    // Condition matched - abort rest of IFs and the step
    return;
}
// $endeach

