"""The Spring Batch model in Python: values with Java types, statuses, parameters, contexts,
executions, jobs and steps, and the OpenTelemetry spans around them (:mod:`.tracing`). Nothing
here touches SQL; persistence goes through the repository."""
