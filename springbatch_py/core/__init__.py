"""The Spring Batch model in Python: values with Java types, statuses, parameters, contexts,
executions, jobs and steps. Nothing here touches SQL; persistence goes through the repository."""
