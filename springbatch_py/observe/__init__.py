"""Observability: read-only views of a cluster in the Java actuator's JSON shapes, Prometheus
metrics and an HTTP server for both.

The modules are imported on their own (``springbatch_py.observe.server``, ``.views``,
``.metrics``, ``.prometheus``). The OpenTelemetry spans of job, step and partition executions
are made where those run, by :mod:`springbatch_py.core.tracing`: no lower layer imports this
package.
"""
