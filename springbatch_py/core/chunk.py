"""The chunk-oriented step: read, process and write items in chunks, one transaction per chunk.

Semantics follow Spring Batch's ``ChunkOrientedTasklet`` with the fault-tolerant chunk provider
and processor (transactional processor, buffered inputs):

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

The step's Java identity follows the repository's Spring Batch major: 5.x runs a chunk step as a
``TaskletStep`` around a ``ChunkOrientedTasklet`` (both named in the step context) and counts
the final, empty read as one more commit; 6.0's ``ChunkOrientedStep`` names only itself and
commits the empty read without counting it (50 items at a commit interval of 10: COMMIT_COUNT 6
in 5.x, 5 in 6.0; the step execution is saved as often in both).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from springbatch_py.core.domain import StepContribution
from springbatch_py.core.errors import (
    NonSkippableProcessError,
    NonSkippableReadError,
    NonSkippableWriteError,
    RetryExhaustedError,
    SkipOverflowError,
)
from springbatch_py.core.policies import RetryPolicy, SkipPolicy, classifier
from springbatch_py.core.step import (
    ChunkContext,
    ChunkLoopStep,
    RepeatStatus,
    StepRepository,
)

log = logging.getLogger(__name__)

_INPUTS = "springbatch_py.chunk.inputs"
#: Set on the chunk context while the current chunk read no item at all.
_EMPTY = "springbatch_py.chunk.empty"
#: The step classes and the tasklet class Java names in the step context, by major.
TASKLET_STEP = "org.springframework.batch.core.step.tasklet.TaskletStep"
CHUNK_ORIENTED_TASKLET = "org.springframework.batch.core.step.item.ChunkOrientedTasklet"
CHUNK_ORIENTED_STEP = "org.springframework.batch.core.step.item.ChunkOrientedStep"
#: Java's minimum for the read skips one chunk may accumulate.
MAX_SKIPS_ON_READ = 100


class _Rollback(Exception):
    """A chunk failure after which the step goes on (retry or skip in the next transaction)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.__cause__ = cause


@dataclass
class _Item:
    value: Any
    key: int  # identity of the item within its chunk, for retry state


@dataclass
class _Attempts:
    count: int = 0
    last: BaseException | None = None


@dataclass
class _Inputs:
    """A chunk's inputs and the state kept across the transactions that process them."""

    items: list[_Item]
    end: bool
    read_errors: list[BaseException] = field(default_factory=list)
    busy: bool = False
    scanning: bool = False
    filter_count: int = 0
    process_attempts: dict[int, _Attempts] = field(default_factory=dict)
    write_attempts: _Attempts = field(default_factory=_Attempts)
    process_skips: list[tuple[Any, BaseException]] = field(default_factory=list)
    write_skips: list[tuple[Any, BaseException]] = field(default_factory=list)

    def remove(self, item: _Item) -> None:
        self.items = [i for i in self.items if i.key != item.key]


def _call(target: Any, method: str, *args: Any) -> Any:
    function = getattr(target, method, None)
    return function(*args) if function is not None else target(*args)


class ChunkStep(ChunkLoopStep):
    """Read, process and write items in chunks of ``commit_interval``.

    Parameters
    ----------
    reader:
        An object with ``read() -> item | None`` (``None`` ends the input); it may be an item
        stream (``open(context)``, ``update(context)``, ``close()``) to keep its position in the
        step context for restarts.
    writer:
        An object with ``write(items)`` (or a callable taking the list), possibly a stream.
    processor:
        An object with ``process(item)`` or a callable; returning ``None`` filters the item.
    commit_interval:
        Items per chunk (per transaction).
    skip, no_skip, skip_limit:
        Skippable exception classes (and exceptions to them) and how many skips the step allows.
    retry, no_retry, retry_limit:
        Retryable exception classes and how many attempts (the first included) an item or a
        chunk write gets.
    fault_tolerant:
        Use the fault-tolerant semantics; on by default when skips or retries are configured.
    """

    def __init__(
        self,
        name: str,
        *,
        reader: Any,
        writer: Any,
        processor: Any = None,
        commit_interval: int = 10,
        skip: Iterable[type[BaseException]] = (),
        no_skip: Iterable[type[BaseException]] = (),
        skip_limit: int = 10,
        retry: Iterable[type[BaseException]] = (),
        no_retry: Iterable[type[BaseException]] = (),
        retry_limit: int = 0,
        fault_tolerant: bool | None = None,
        streams: Iterable[Any] = (),
        **kwargs: Any,
    ) -> None:
        streams = list(streams)
        for part in (reader, processor, writer):
            if part is not None and any(hasattr(part, m) for m in ("open", "update", "close")):
                streams.append(part)
        super().__init__(name, streams=streams, **kwargs)
        if commit_interval < 1:
            raise ValueError("commit_interval must be at least 1")
        self.reader = reader
        self.writer = writer
        self.processor = processor
        self.commit_interval = commit_interval
        skip, retry = tuple(skip), tuple(retry)
        if retry_limit > 0 and not retry:
            raise ValueError("a retry limit needs retryable exception classes")
        self.fault_tolerant = bool(skip or retry) if fault_tolerant is None else fault_tolerant
        self.skip_policy = SkipPolicy(classifier(skip, no_skip), skip_limit)
        self.retry_policy = RetryPolicy(classifier(retry, no_retry), retry_limit)
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

    def continue_after(self, exc: Exception, step_execution: Any) -> bool:
        return isinstance(exc, _Rollback)

    def run_chunk(
        self, contribution: StepContribution, chunk_context: ChunkContext
    ) -> RepeatStatus:
        inputs: _Inputs | None = chunk_context.attributes.get(_INPUTS)
        if inputs is None:
            inputs = self._provide(contribution)
            chunk_context.attributes[_INPUTS] = inputs
            chunk_context.attributes[_EMPTY] = not inputs.items
        if inputs.scanning:
            inputs.filter_count = 0  # Java re-counts filtered items while scanning
        if inputs.items or inputs.write_skips:
            outputs = self._transform(contribution, inputs)
            contribution.filter_count += inputs.filter_count
            self._write(contribution, inputs, outputs)
            self._call_skip_listeners(inputs)
        for error in inputs.read_errors:
            self.listeners.call("on_skip_in_read", error)
        inputs.read_errors = []
        if inputs.busy:
            return RepeatStatus.CONTINUABLE
        del chunk_context.attributes[_INPUTS]
        chunk_context.complete = True
        return RepeatStatus.FINISHED if inputs.end else RepeatStatus.CONTINUABLE

    # -- read --------------------------------------------------------------------------------

    def _provide(self, contribution: StepContribution) -> _Inputs:
        inputs = _Inputs([], end=False)
        while len(inputs.items) < self.commit_interval:
            item = self._read(contribution, inputs)
            if item is None:
                inputs.end = True
                break
            contribution.read_count += 1
            inputs.items.append(_Item(item, len(inputs.items)))
        return inputs

    def _read(self, contribution: StepContribution, inputs: _Inputs) -> Any:
        while True:
            try:
                self.listeners.call("before_read")
                item = self.reader.read()
                if item is not None:
                    self.listeners.call("after_read", item)
                return item
            except Exception as exc:
                self.listeners.call("on_read_error", exc)
                if not self.fault_tolerant:
                    raise
                if not self._should_skip(exc, contribution):
                    raise NonSkippableReadError("Non-skippable exception during read") from exc
                contribution.read_skip_count += 1
                inputs.read_errors.append(exc)
                if len(inputs.read_errors) >= max(self.commit_interval, MAX_SKIPS_ON_READ):
                    raise SkipOverflowError("Too many skips on read") from exc

    # -- process -----------------------------------------------------------------------------

    def _transform(
        self, contribution: StepContribution, inputs: _Inputs
    ) -> list[tuple[_Item, Any]]:
        outputs: list[tuple[_Item, Any]] = []
        for item in list(inputs.items):
            output = self._process(contribution, inputs, item)
            if output is not None:
                outputs.append((item, output))
            if inputs.scanning:
                break  # while scanning, one item per transaction
        return outputs

    def _process(self, contribution: StepContribution, inputs: _Inputs, item: _Item) -> Any:
        if self.processor is None:
            return item.value
        attempts = inputs.process_attempts.setdefault(item.key, _Attempts())
        if self.fault_tolerant and not self.retry_policy.can_retry(attempts.count, attempts.last):
            # Recovery: the item failed and may not be tried again.
            assert attempts.last is not None
            if self._should_skip(attempts.last, contribution):
                inputs.remove(item)
                contribution.process_skip_count += 1
                inputs.process_skips.append((item.value, attempts.last))
                return None
            raise NonSkippableProcessError(
                "Non-skippable exception in recoverer while processing"
            ) from attempts.last
        try:
            self.listeners.call("before_process", item.value)
            output = _call(self.processor, "process", item.value)
            self.listeners.call("after_process", item.value, output)
        except Exception as exc:
            self.listeners.call("on_process_error", item.value, exc)
            if not self.fault_tolerant:
                raise
            attempts.count += 1
            attempts.last = exc
            raise _Rollback(exc) from exc
        if output is None:
            inputs.filter_count += 1
            inputs.remove(item)  # filtered items are not processed again
        return output

    # -- write -------------------------------------------------------------------------------

    def _write(
        self, contribution: StepContribution, inputs: _Inputs, outputs: list[tuple[_Item, Any]]
    ) -> None:
        if not self.fault_tolerant:
            if outputs:
                self._write_items([o for _, o in outputs])
            contribution.write_count += len(outputs)
            return
        attempts = inputs.write_attempts
        if not self.retry_policy.can_retry(attempts.count, attempts.last):
            if not inputs.busy:
                # Recovery after the last attempt: scan only for a skippable failure.
                assert attempts.last is not None
                if not self.skip_policy.should_skip(attempts.last, -1):
                    raise RetryExhaustedError(
                        "Retry exhausted after last attempt in recovery path, but exception is "
                        "not skippable."
                    ) from attempts.last
                inputs.busy = inputs.scanning = True
            self._scan(contribution, inputs, outputs)
            return
        if not outputs:
            return
        try:
            self._write_items([o for _, o in outputs])
        except Exception as exc:
            attempts.count += 1
            attempts.last = exc
            if not self.retry_policy.can_retry(attempts.count, attempts.last):
                inputs.scanning = True  # process one item per transaction from the next one on
            raise _Rollback(exc) from exc
        contribution.write_count += len(outputs)

    def _scan(
        self, contribution: StepContribution, inputs: _Inputs, outputs: list[tuple[_Item, Any]]
    ) -> None:
        """Write the first remaining item alone; its transaction commits or rolls back alone."""
        if outputs:
            item, output = outputs[0]
            try:
                self._write_items([output])
            except Exception as exc:
                if not self._should_skip(exc, contribution):
                    raise NonSkippableWriteError("Non-skippable exception in recoverer") from exc
                contribution.write_skip_count += 1
                inputs.remove(item)
                inputs.write_skips.append((output, exc))
                self._end_scan_if_done(inputs)
                raise _Rollback(exc) from exc
            contribution.write_count += 1
            inputs.remove(item)
        # An item filtered or skipped while scanning leaves no output: go on with the next one.
        self._end_scan_if_done(inputs)

    @staticmethod
    def _end_scan_if_done(inputs: _Inputs) -> None:
        if not inputs.items:
            inputs.scanning = inputs.busy = False

    def _write_items(self, items: list[Any]) -> None:
        try:
            self.listeners.call("before_write", items)
            _call(self.writer, "write", items)
            self.listeners.call("after_write", items)
        except Exception as exc:
            self.listeners.call("on_write_error", exc, items)
            raise

    # -- skips -------------------------------------------------------------------------------

    def _should_skip(self, exc: BaseException, contribution: StepContribution) -> bool:
        # Java's getStepSkipCount: the step's skips so far plus this chunk's.
        skips = contribution.step_execution.skip_count + contribution.skip_count
        return self.skip_policy.should_skip(exc, skips)

    def _call_skip_listeners(self, inputs: _Inputs) -> None:
        for value, exc in inputs.process_skips:
            self.listeners.call("on_skip_in_process", value, exc)
        for value, exc in inputs.write_skips:
            self.listeners.call("on_skip_in_write", value, exc)
        inputs.process_skips = []
        inputs.write_skips = []


def _is_listener(part: Any) -> bool:
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


ItemProcessor = Callable[[Any], Any]
