"""springbatch-py: Spring Batch's JDBC job repository and database-coordinated cluster
partitioning, in Python, sharing one database with Java nodes.

What a job needs is importable from here::

    from springbatch_py import ChunkStep, Database, Job, JobLauncher, JobRepository, create_schema

The names are loaded on first use, so ``import springbatch_py`` stays cheap (the command line
and tools that only read ``__version__`` pull in nothing else). The modules they come from
(:mod:`springbatch_py.core`, :mod:`springbatch_py.item`, :mod:`springbatch_py.cluster`, ...)
remain importable as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from springbatch_py.cluster import (
        ClusterSettings,
        FunctionPartitioner,
        Node,
        PartitionStep,
        StepRegistry,
        strategy_for,
    )
    from springbatch_py.core.chunk import ChunkStep
    from springbatch_py.core.context import ExecutionContext
    from springbatch_py.core.domain import (
        JobExecution,
        JobInstance,
        StepContribution,
        StepExecution,
    )
    from springbatch_py.core.errors import (
        JobExecutionAlreadyRunningError,
        JobInstanceAlreadyCompleteError,
        JobParametersInvalidError,
        JobRestartError,
        NoSuchJobError,
        NoSuchJobExecutionError,
    )
    from springbatch_py.core.job import FlowBuilder, Job, RunIdIncrementer
    from springbatch_py.core.launch import JobLauncher, JobOperator, JobRegistry
    from springbatch_py.core.parameters import JobParameter, JobParameters
    from springbatch_py.core.status import BatchStatus, ExitStatus
    from springbatch_py.core.step import ChunkContext, RepeatStatus, ScopedStep, Step, TaskletStep
    from springbatch_py.db.database import Database
    from springbatch_py.db.schema import create_schema, drop_schema, verify_schema
    from springbatch_py.db.settings import DatabaseSettings
    from springbatch_py.errors import ConfigurationError, SpringBatchError
    from springbatch_py.item import (
        ClassifierCompositeItemWriter,
        CompositeItemWriter,
        CsvItemReader,
        CsvItemWriter,
        FlatFileItemReader,
        FlatFileItemWriter,
        ItemProcessor,
        ItemReader,
        ItemStream,
        ItemWriter,
        IterableItemReader,
        JsonLinesItemReader,
        JsonLinesItemWriter,
        ListItemWriter,
        SqlCursorItemReader,
        SqlItemReader,
        SqlItemWriter,
        SqlPagingItemReader,
    )
    from springbatch_py.java.types import Double, Float, Integer, Long, Short
    from springbatch_py.repository.explorer import JobExplorer
    from springbatch_py.repository.jobs import JobRepository

#: Each public name and the module that defines it.
_EXPORTS: dict[str, str] = {
    # jobs and steps
    "Job": "springbatch_py.core.job",
    "FlowBuilder": "springbatch_py.core.job",
    "RunIdIncrementer": "springbatch_py.core.job",
    "Step": "springbatch_py.core.step",
    "TaskletStep": "springbatch_py.core.step",
    "ScopedStep": "springbatch_py.core.step",
    "RepeatStatus": "springbatch_py.core.step",
    "ChunkContext": "springbatch_py.core.step",
    "ChunkStep": "springbatch_py.core.chunk",
    # running and operating
    "JobLauncher": "springbatch_py.core.launch",
    "JobOperator": "springbatch_py.core.launch",
    "JobRegistry": "springbatch_py.core.launch",
    "JobRepository": "springbatch_py.repository.jobs",
    "JobExplorer": "springbatch_py.repository.explorer",
    # the domain
    "JobInstance": "springbatch_py.core.domain",
    "JobExecution": "springbatch_py.core.domain",
    "StepExecution": "springbatch_py.core.domain",
    "StepContribution": "springbatch_py.core.domain",
    "JobParameter": "springbatch_py.core.parameters",
    "JobParameters": "springbatch_py.core.parameters",
    "ExecutionContext": "springbatch_py.core.context",
    "BatchStatus": "springbatch_py.core.status",
    "ExitStatus": "springbatch_py.core.status",
    "Long": "springbatch_py.java.types",
    "Integer": "springbatch_py.java.types",
    "Short": "springbatch_py.java.types",
    "Double": "springbatch_py.java.types",
    "Float": "springbatch_py.java.types",
    # items
    "ItemReader": "springbatch_py.core.items",
    "ItemProcessor": "springbatch_py.core.items",
    "ItemWriter": "springbatch_py.core.items",
    "ItemStream": "springbatch_py.core.items",
    "IterableItemReader": "springbatch_py.item",
    "ListItemWriter": "springbatch_py.item",
    "CsvItemReader": "springbatch_py.item",
    "CsvItemWriter": "springbatch_py.item",
    "SqlItemReader": "springbatch_py.item",
    "SqlItemWriter": "springbatch_py.item",
    "ClassifierCompositeItemWriter": "springbatch_py.item",
    "CompositeItemWriter": "springbatch_py.item",
    "FlatFileItemReader": "springbatch_py.item",
    "FlatFileItemWriter": "springbatch_py.item",
    "JsonLinesItemReader": "springbatch_py.item",
    "JsonLinesItemWriter": "springbatch_py.item",
    "SqlCursorItemReader": "springbatch_py.item",
    "SqlPagingItemReader": "springbatch_py.item",
    # the database
    "Database": "springbatch_py.db.database",
    "DatabaseSettings": "springbatch_py.db.settings",
    "create_schema": "springbatch_py.db.schema",
    "verify_schema": "springbatch_py.db.schema",
    "drop_schema": "springbatch_py.db.schema",
    # the cluster
    "Node": "springbatch_py.cluster",
    "PartitionStep": "springbatch_py.cluster",
    "FunctionPartitioner": "springbatch_py.cluster",
    "StepRegistry": "springbatch_py.cluster",
    "ClusterSettings": "springbatch_py.cluster",
    "strategy_for": "springbatch_py.cluster",
    # errors
    "SpringBatchError": "springbatch_py.errors",
    "ConfigurationError": "springbatch_py.errors",
    "JobExecutionAlreadyRunningError": "springbatch_py.core.errors",
    "JobInstanceAlreadyCompleteError": "springbatch_py.core.errors",
    "JobParametersInvalidError": "springbatch_py.core.errors",
    "JobRestartError": "springbatch_py.core.errors",
    "NoSuchJobError": "springbatch_py.core.errors",
    "NoSuchJobExecutionError": "springbatch_py.core.errors",
}

__all__ = [
    "BatchStatus",
    "ChunkContext",
    "ChunkStep",
    "ClassifierCompositeItemWriter",
    "ClusterSettings",
    "CompositeItemWriter",
    "ConfigurationError",
    "CsvItemReader",
    "CsvItemWriter",
    "Database",
    "DatabaseSettings",
    "Double",
    "ExecutionContext",
    "ExitStatus",
    "FlatFileItemReader",
    "FlatFileItemWriter",
    "Float",
    "FlowBuilder",
    "FunctionPartitioner",
    "Integer",
    "ItemProcessor",
    "ItemReader",
    "ItemStream",
    "ItemWriter",
    "IterableItemReader",
    "Job",
    "JobExecution",
    "JobExecutionAlreadyRunningError",
    "JobExplorer",
    "JobInstance",
    "JobInstanceAlreadyCompleteError",
    "JobLauncher",
    "JobOperator",
    "JobParameter",
    "JobParameters",
    "JobParametersInvalidError",
    "JobRegistry",
    "JobRepository",
    "JobRestartError",
    "JsonLinesItemReader",
    "JsonLinesItemWriter",
    "ListItemWriter",
    "Long",
    "NoSuchJobError",
    "NoSuchJobExecutionError",
    "Node",
    "PartitionStep",
    "RepeatStatus",
    "RunIdIncrementer",
    "ScopedStep",
    "Short",
    "SpringBatchError",
    "SqlCursorItemReader",
    "SqlItemReader",
    "SqlItemWriter",
    "SqlPagingItemReader",
    "Step",
    "StepContribution",
    "StepExecution",
    "StepRegistry",
    "TaskletStep",
    "__version__",
    "create_schema",
    "drop_schema",
    "strategy_for",
    "verify_schema",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'springbatch_py' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
