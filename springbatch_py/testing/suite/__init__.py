"""The dialect conformance suite: what springbatch-py needs from a database engine, checked on it.

Each module runs against every engine of the matrix through the ``database``/``repository``
fixtures of :mod:`springbatch_py.testing.plugin`, and asks for capabilities
(``@pytest.mark.requires("zone_sensitive_clock")``), never for database names:

* ``test_schema``: both Spring Batch majors and the cluster tables are created, verified and
  dropped; id generators behave as Java's incrementers expect;
* ``test_facts``: the created tables equal the published Spring Batch and cluster DDL;
* ``test_clock``: stored times and database-clock ages agree in the configured zone;
* ``test_repository``: job keys, parameters, contexts, optimistic locking and ids;
* ``test_jobs``: chunk and tasklet steps, restart, skip, retry, stop and abandon;
* ``test_cluster_store``: every cluster statement, its compare-and-set row counts, and
  concurrent claims; on the in-memory cluster store too (engine ``memory``), which must answer
  as the SQL does.

Run it against your own server with ``springbatch-py conformance --url URL`` (it works in
scratch databases it creates and drops), or from pytest::

    SPRINGBATCH_TEST_POSTGRESQL_URL=postgresql+psycopg://admin@db/postgres \\
        pytest -p springbatch_py.testing.plugin --pyargs springbatch_py.testing.suite
"""
