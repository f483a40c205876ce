"""Test configuration: the engine matrix plugin."""

pytest_plugins = ["springbatch_py.testing.plugin"]
