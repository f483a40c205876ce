"""Observability: read-only views of a cluster in the Java actuator's JSON shapes, Prometheus
metrics, an HTTP server for both, and OpenTelemetry spans for job, step and partition executions.

The modules are imported on their own (``springbatch_py.observe.server``, ``.views``,
``.metrics``, ``.prometheus``, ``.tracing``): the core imports
:mod:`springbatch_py.observe.tracing`, which must stay free of the cluster layer.
"""
