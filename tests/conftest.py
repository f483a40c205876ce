"""Test configuration: the engine matrix plugin is loaded by pyproject.toml's ``addopts``
(``-p springbatch_py.testing.plugin``), for tests/ and the shipped suite alike."""
