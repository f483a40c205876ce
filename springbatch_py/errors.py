"""Errors raised by springbatch-py.

Every error a user can cause derives from :class:`SpringBatchError`; the command line prints its
message on one line and exits non-zero.
"""

from __future__ import annotations


class SpringBatchError(Exception):
    """Base class of every error springbatch-py raises on purpose."""


class ConfigurationError(SpringBatchError):
    """A setting, URL or argument is invalid."""


class DatabaseUnavailableError(SpringBatchError):
    """The database cannot be reached, or refused the credentials."""


class SchemaError(SpringBatchError):
    """The database schema is missing, incomplete or of the wrong kind."""


class MissingSchemaError(SchemaError):
    """The database has no Spring Batch schema (or no cluster tables) where one is needed."""


class MixedSchemaError(SchemaError):
    """The database holds objects of both Spring Batch majors, or another major than requested."""


class StatementError(SpringBatchError):
    """A named statement is missing, malformed or not supported by the dialect."""
