"""The chunk-oriented step: read, process and write items in chunks, one transaction per chunk.

Semantics follow Spring Batch's ``ChunkOrientedTasklet``: each transaction gets a chunk's inputs
from a chunk provider and hands them to a chunk processor
(:mod:`springbatch_py.core.chunk_processor`), the simple ones, or with skips or retries
configured the fault-tolerant ones (transactional processor, buffered inputs):

* a chunk reads up to ``commit_interval`` items; a skippable read error counts a read skip and
  reading goes on; the inputs are kept until the chunk completes, so a rolled-back chunk is
  processed again from the same items without reading them again;
* a processing or writing error rolls the chunk back; the failing item (or, for writes, the whole
  chunk) is retried in the next transaction while the retry policy allows; once it does not, the
  item is skipped if the skip policy allows, else the step fails;
* when a chunk write cannot be retried, the chunk is *scanned*: each item is processed and written
  alone, in a transaction of its own, so the failing item is found and skipped;
* a filtered item (the processor returns ``None``) counts in ``filter_count``;
* a chunk's counts reach the step execution even when the chunk rolls back for a retry or a
  skip (its items are not read again); a chunk whose commit fails after it succeeded (the step
  save, a lost partition's fence, the commit itself) takes its counts back with it.

The reader, processor and writer are typed (:mod:`springbatch_py.core.items`): a
``ChunkStep[I, O]`` reads ``I`` items and writes ``O`` items, and mypy checks that the three
parts agree.

The step's Java identity follows the repository's Spring Batch major: 5.x runs a chunk step as a
``TaskletStep`` around a ``ChunkOrientedTasklet`` (both named in the step context) and counts
the final, empty read as one more commit; 6.0's ``ChunkOrientedStep`` names only itself and
commits the empty read without counting it (50 items at a commit interval of 10: COMMIT_COUNT 6
in 5.x, 5 in 6.0; the step execution is saved as often in both).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, Generic, cast, overload

from typing_extensions import TypeVar

from springbatch_py.core.chunk_processor import (
    Chunk,
    ChunkRollback,
    FaultTolerantChunkProcessor,
    FaultTolerantChunkProvider,
    SimpleChunkProcessor,
    SimpleChunkProvider,
)
from springbatch_py.core.domain import StepContribution, StepExecution
from springbatch_py.core.items import (
    ItemProcessor,
    ItemReader,
    ItemStream,
    ItemWriter,
    ProcessorLike,
    WriterLike,
)
from springbatch_py.core.policies import RetryPolicy, SkipPolicy, classifier
from springbatch_py.core.step import (
    ChunkContext,
    ChunkLoopStep,
    RepeatStatus,
    StepRepository,
)

log = logging.getLogger(__name__)

# The input and output item types (Java's <I, O>); a bare ``ChunkStep`` annotation means
# ``ChunkStep[Any, Any]``.
I = TypeVar("I", default=Any)  # noqa: E741
O = TypeVar("O", default=Any)  # noqa: E741

_INPUTS = "springbatch_py.chunk.inputs"
#: Set on the chunk context while the current chunk read no item at all.
_EMPTY = "springbatch_py.chunk.empty"
#: The step classes and the tasklet class Java names in the step context, by major.
TASKLET_STEP = "org.springframework.batch.core.step.tasklet.TaskletStep"
CHUNK_ORIENTED_TASKLET = "org.springframework.batch.core.step.item.ChunkOrientedTasklet"
CHUNK_ORIENTED_STEP = "org.springframework.batch.core.step.item.ChunkOrientedStep"


class ChunkStep(ChunkLoopStep, Generic[I, O]):
    """Read, process and write items in chunks of ``commit_interval``.

    Parameters
    ----------
    reader:
        An :class:`~springbatch_py.core.items.ItemReader` (``read() -> item | None``; ``None``
        ends the input); it may be an item stream (``open(context)``, ``update(context)``,
        ``close()``) to keep its position in the step context for restarts.
    writer:
        An :class:`~springbatch_py.core.items.ItemWriter` (``write(items)``) or a function
        taking the chunk's list, possibly a stream.
    processor:
        An :class:`~springbatch_py.core.items.ItemProcessor` (``process(item)``) or a
        function; returning ``None`` filters the item. Without one, the inputs are written.
    commit_interval:
        Items per chunk (per transaction).
    skip, no_skip, skip_limit:
        Skippable exception classes (and exceptions to them) and how many skips the step allows.
    retry, no_retry, retry_limit:
        Retryable exception classes and how many attempts (the first included) an item or a
        chunk write gets.
    fault_tolerant:
        Use the fault-tolerant semantics; on by default when skips or retries are configured.
    streams:
        More item streams to open, update and close with the step (the reader, processor and
        writer are registered when they are streams).
    allow_start_if_complete, start_limit, listeners:
        As for every :class:`~springbatch_py.core.step.Step`; a reader, processor or writer
        with listener methods is registered as a listener too.
    """

    @overload
    def __init__(
        self: ChunkStep[I, I],
        name: str,
        *,
        reader: ItemReader[I],
        writer: ItemWriter[I] | Callable[[list[I]], object],
        processor: None = None,
        commit_interval: int = 10,
        skip: Iterable[type[BaseException]] = (),
        no_skip: Iterable[type[BaseException]] = (),
        skip_limit: int = 10,
        retry: Iterable[type[BaseException]] = (),
        no_retry: Iterable[type[BaseException]] = (),
        retry_limit: int = 0,
        fault_tolerant: bool | None = None,
        streams: Iterable[ItemStream] = (),
        allow_start_if_complete: bool = False,
        start_limit: int = sys.maxsize,
        listeners: Iterable[object] = (),
    ) -> None: ...

    @overload
    def __init__(
        self,
        name: str,
        *,
        reader: ItemReader[I],
        writer: ItemWriter[O] | Callable[[list[O]], object],
        processor: ItemProcessor[I, O] | Callable[[I], O | None],
        commit_interval: int = 10,
        skip: Iterable[type[BaseException]] = (),
        no_skip: Iterable[type[BaseException]] = (),
        skip_limit: int = 10,
        retry: Iterable[type[BaseException]] = (),
        no_retry: Iterable[type[BaseException]] = (),
        retry_limit: int = 0,
        fault_tolerant: bool | None = None,
        streams: Iterable[ItemStream] = (),
        allow_start_if_complete: bool = False,
        start_limit: int = sys.maxsize,
        listeners: Iterable[object] = (),
    ) -> None: ...

    def __init__(
        self,
        name: str,
        *,
        reader: ItemReader[I],
        writer: WriterLike[O] | WriterLike[I],
        processor: ProcessorLike[I, O] | None = None,
        commit_interval: int = 10,
        skip: Iterable[type[BaseException]] = (),
        no_skip: Iterable[type[BaseException]] = (),
        skip_limit: int = 10,
        retry: Iterable[type[BaseException]] = (),
        no_retry: Iterable[type[BaseException]] = (),
        retry_limit: int = 0,
        fault_tolerant: bool | None = None,
        streams: Iterable[ItemStream] = (),
        allow_start_if_complete: bool = False,
        start_limit: int = sys.maxsize,
        listeners: Iterable[object] = (),
    ) -> None:
        all_streams: list[object] = list(streams)
        for part in (reader, processor, writer):
            if part is not None and any(hasattr(part, m) for m in ("open", "update", "close")):
                all_streams.append(part)
        super().__init__(
            name,
            streams=all_streams,
            allow_start_if_complete=allow_start_if_complete,
            start_limit=start_limit,
            listeners=listeners,
        )
        if commit_interval < 1:
            raise ValueError("commit_interval must be at least 1")
        self.reader = reader
        # Without a processor the first signature above made O the same type as I.
        self.writer = cast("WriterLike[O]", writer)
        self.processor = processor
        self.commit_interval = commit_interval
        skip, retry = tuple(skip), tuple(retry)
        if retry_limit > 0 and not retry:
            raise ValueError("a retry limit needs retryable exception classes")
        self.fault_tolerant = bool(skip or retry) if fault_tolerant is None else fault_tolerant
        self.skip_policy = SkipPolicy(classifier(skip, no_skip), skip_limit)
        self.retry_policy = RetryPolicy(classifier(retry, no_retry), retry_limit)
        self.chunk_provider: SimpleChunkProvider[I]
        self.chunk_processor: SimpleChunkProcessor[I, O]
        if self.fault_tolerant:
            self.chunk_provider = FaultTolerantChunkProvider(
                reader, self.listeners, commit_interval, self.skip_policy
            )
            self.chunk_processor = FaultTolerantChunkProcessor(
                processor, self.writer, self.listeners, self.skip_policy, self.retry_policy
            )
        else:
            self.chunk_provider = SimpleChunkProvider(reader, self.listeners, commit_interval)
            self.chunk_processor = SimpleChunkProcessor(processor, self.writer, self.listeners)
        for part in (reader, processor, writer):
            if part is not None and _is_listener(part):
                self.listeners.add(part)

    # -- the loop ----------------------------------------------------------------------------

    def batch_step_type(self, repository: StepRepository) -> str:
        """5.x: ``TaskletStep``; 6.0: ``ChunkOrientedStep``."""
        return CHUNK_ORIENTED_STEP if repository.major >= 6 else TASKLET_STEP

    def tasklet_type(self, repository: StepRepository) -> str | None:
        """5.x: ``ChunkOrientedTasklet``; 6.0 writes no tasklet type for a chunk step."""
        return None if repository.major >= 6 else CHUNK_ORIENTED_TASKLET

    def counts_commit(self, chunk_context: ChunkContext, repository: StepRepository) -> bool:
        """6.0 does not count the transaction of a chunk that read nothing."""
        empty = chunk_context.attributes.pop(_EMPTY, False)
        return not (empty and repository.major >= 6)

    def continue_after(self, exc: Exception, step_execution: StepExecution) -> bool:
        return isinstance(exc, ChunkRollback)

    def run_chunk(
        self, contribution: StepContribution, chunk_context: ChunkContext
    ) -> RepeatStatus:
        chunk: Chunk[I] | None = chunk_context.attributes.get(_INPUTS)
        if chunk is None:
            chunk = self.chunk_provider.provide(contribution)
            chunk_context.attributes[_INPUTS] = chunk
            chunk_context.attributes[_EMPTY] = not chunk.items
        self.chunk_processor.process(contribution, chunk)
        self.chunk_provider.post_process(chunk)
        if chunk.busy:
            return RepeatStatus.CONTINUABLE
        del chunk_context.attributes[_INPUTS]
        chunk_context.complete = True
        return RepeatStatus.FINISHED if chunk.end else RepeatStatus.CONTINUABLE


def _is_listener(part: object) -> bool:
    names = (
        "before_step",
        "after_step",
        "before_chunk",
        "after_chunk",
        "after_chunk_error",
        "before_read",
        "after_read",
        "on_read_error",
        "before_process",
        "after_process",
        "on_process_error",
        "before_write",
        "after_write",
        "on_write_error",
        "on_skip_in_read",
        "on_skip_in_process",
        "on_skip_in_write",
    )
    return any(callable(getattr(part, n, None)) for n in names)
