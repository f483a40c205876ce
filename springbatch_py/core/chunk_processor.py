"""The two halves of a chunk, simple and fault-tolerant, as Spring Batch splits them.

A chunk *provider* reads a chunk's inputs; a chunk *processor* processes them and writes the
outputs. :class:`~springbatch_py.core.chunk.ChunkStep` runs one of each per transaction:

* :class:`SimpleChunkProvider` reads up to ``commit_interval`` items; a read error fails the
  step;
* :class:`FaultTolerantChunkProvider` counts a skippable read error as a read skip and reads on;
* :class:`SimpleChunkProcessor` processes every input and writes the outputs; any error fails
  the step;
* :class:`FaultTolerantChunkProcessor` retries, skips and scans (below).

The fault-tolerant processor follows Java's ``FaultTolerantChunkProcessor`` (transactional
processor, buffered inputs): a processing or writing error rolls the chunk back (by raising
:class:`ChunkRollback`, after which the step goes on); the failing item, or for writes the whole
chunk, is retried in the next transaction while the retry policy allows; once it does not, the
item is skipped if the skip policy allows, else the step fails. When a chunk write cannot be
retried, the chunk is *scanned*: each item is processed and written alone, in a transaction of
its own, so the failing item is found and skipped.

Everything here runs on the step's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from springbatch_py.core.domain import StepContribution
from springbatch_py.core.errors import (
    NonSkippableProcessError,
    NonSkippableReadError,
    NonSkippableWriteError,
    RetryExhaustedError,
    SkipOverflowError,
)
from springbatch_py.core.items import ItemReader, ProcessorLike, WriterLike
from springbatch_py.core.listeners import Listeners
from springbatch_py.core.policies import RetryPolicy, SkipPolicy

I = TypeVar("I")  # noqa: E741 - the input item type, Java's <I>
O = TypeVar("O")  # noqa: E741 - the output item type, Java's <O>

#: Java's minimum for the read skips one chunk may accumulate.
MAX_SKIPS_ON_READ = 100


class ChunkRollback(Exception):
    """A chunk failure after which the step goes on (retry or skip in the next transaction)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.__cause__ = cause


@dataclass
class _Item(Generic[I]):
    value: I
    key: int  # identity of the item within its chunk, for retry state


@dataclass
class _Attempts:
    count: int = 0
    last: BaseException | None = None


@dataclass
class Chunk(Generic[I]):
    """A chunk's inputs and the state kept across the transactions that process them."""

    items: list[_Item[I]] = field(default_factory=list)
    end: bool = False
    read_errors: list[BaseException] = field(default_factory=list)
    #: The chunk needs more transactions before it is done (it is being scanned).
    busy: bool = False
    scanning: bool = False
    filter_count: int = 0
    process_attempts: dict[int, _Attempts] = field(default_factory=dict)
    write_attempts: _Attempts = field(default_factory=_Attempts)
    process_skips: list[tuple[I, BaseException]] = field(default_factory=list)
    write_skips: list[tuple[object, BaseException]] = field(default_factory=list)

    def remove(self, item: _Item[I]) -> None:
        """Drop an input that is done with (filtered, skipped or written alone)."""
        self.items = [i for i in self.items if i.key != item.key]


def _should_skip(policy: SkipPolicy, exc: BaseException, contribution: StepContribution) -> bool:
    # Java's getStepSkipCount: the step's skips so far plus this chunk's.
    skips = contribution.step_execution.skip_count + contribution.skip_count
    return policy.should_skip(exc, skips)


# -- reading ----------------------------------------------------------------------------------


class SimpleChunkProvider(Generic[I]):
    """Reads a chunk's inputs; a read error fails the step (Java's ``SimpleChunkProvider``)."""

    def __init__(self, reader: ItemReader[I], listeners: Listeners, commit_interval: int) -> None:
        self.reader = reader
        self.listeners = listeners
        self.commit_interval = commit_interval

    def provide(self, contribution: StepContribution) -> Chunk[I]:
        """Read up to ``commit_interval`` items (fewer at the end of the input)."""
        chunk: Chunk[I] = Chunk()
        while len(chunk.items) < self.commit_interval:
            item = self.read(contribution, chunk)
            if item is None:
                chunk.end = True
                break
            contribution.read_count += 1
            chunk.items.append(_Item(item, len(chunk.items)))
        return chunk

    def read(self, contribution: StepContribution, chunk: Chunk[I]) -> I | None:
        """One item, with the read listeners around it."""
        try:
            return self._read_one()
        except Exception as exc:
            self.listeners.call("on_read_error", exc)
            raise

    def _read_one(self) -> I | None:
        self.listeners.call("before_read")
        item = self.reader.read()
        if item is not None:
            self.listeners.call("after_read", item)
        return item

    def post_process(self, chunk: Chunk[I]) -> None:
        """Tell the skip listeners of the chunk's skipped reads (once it was processed)."""
        for error in chunk.read_errors:
            self.listeners.call("on_skip_in_read", error)
        chunk.read_errors = []


class FaultTolerantChunkProvider(SimpleChunkProvider[I]):
    """Reads a chunk's inputs, skipping skippable read errors (Java's
    ``FaultTolerantChunkProvider``)."""

    def __init__(
        self,
        reader: ItemReader[I],
        listeners: Listeners,
        commit_interval: int,
        skip_policy: SkipPolicy,
    ) -> None:
        super().__init__(reader, listeners, commit_interval)
        self.skip_policy = skip_policy

    def read(self, contribution: StepContribution, chunk: Chunk[I]) -> I | None:
        """One item; a skippable failure counts a read skip and the next item is read."""
        while True:
            try:
                return self._read_one()
            except Exception as exc:
                self.listeners.call("on_read_error", exc)
                if not _should_skip(self.skip_policy, exc, contribution):
                    raise NonSkippableReadError("Non-skippable exception during read") from exc
                contribution.read_skip_count += 1
                chunk.read_errors.append(exc)
                if len(chunk.read_errors) >= max(self.commit_interval, MAX_SKIPS_ON_READ):
                    raise SkipOverflowError("Too many skips on read") from exc


# -- processing and writing -------------------------------------------------------------------


class SimpleChunkProcessor(Generic[I, O]):
    """Processes a chunk's inputs and writes the outputs; any error fails the step (Java's
    ``SimpleChunkProcessor``). Without an item processor the inputs are the outputs."""

    def __init__(
        self,
        processor: ProcessorLike[I, O] | None,
        writer: WriterLike[O],
        listeners: Listeners,
    ) -> None:
        self.processor = processor
        self.writer = writer
        self.listeners = listeners

    def process(self, contribution: StepContribution, chunk: Chunk[I]) -> None:
        """Process and write the chunk (in the current transaction)."""
        if not chunk.items:
            return
        outputs = self._transform(contribution, chunk)
        contribution.filter_count += chunk.filter_count
        if outputs:
            self._write_items([output for _, output in outputs])
        contribution.write_count += len(outputs)

    def _transform(
        self, contribution: StepContribution, chunk: Chunk[I]
    ) -> list[tuple[_Item[I], O]]:
        outputs: list[tuple[_Item[I], O]] = []
        for item in list(chunk.items):
            output = self._process(contribution, chunk, item)
            if output is not None:
                outputs.append((item, output))
            if chunk.scanning:
                break  # while scanning, one item per transaction
        return outputs

    def _process(self, contribution: StepContribution, chunk: Chunk[I], item: _Item[I]) -> O | None:
        output = self._process_one(item.value)
        if output is None:
            chunk.filter_count += 1
            chunk.remove(item)  # filtered items are not processed again
        return output

    def _process_one(self, value: I) -> O | None:
        """The item processor's output for ``value``, with the process listeners around it."""
        if self.processor is None:
            # Without a processor the step's two item types are one (ChunkStep's signature).
            return value  # type: ignore[return-value]
        try:
            self.listeners.call("before_process", value)
            output = _processing_function(self.processor)(value)
            self.listeners.call("after_process", value, output)
        except Exception as exc:
            self.listeners.call("on_process_error", value, exc)
            raise
        return output

    def _write_items(self, items: list[O]) -> None:
        try:
            self.listeners.call("before_write", items)
            _writing_function(self.writer)(items)
            self.listeners.call("after_write", items)
        except Exception as exc:
            self.listeners.call("on_write_error", exc, items)
            raise


class FaultTolerantChunkProcessor(SimpleChunkProcessor[I, O]):
    """Processes and writes a chunk with retries, skips and scanning (Java's
    ``FaultTolerantChunkProcessor``; see the module docstring)."""

    def __init__(
        self,
        processor: ProcessorLike[I, O] | None,
        writer: WriterLike[O],
        listeners: Listeners,
        skip_policy: SkipPolicy,
        retry_policy: RetryPolicy,
    ) -> None:
        super().__init__(processor, writer, listeners)
        self.skip_policy = skip_policy
        self.retry_policy = retry_policy

    def process(self, contribution: StepContribution, chunk: Chunk[I]) -> None:
        """Process and write what is left of the chunk; raises :class:`ChunkRollback` when
        the transaction must roll back and the chunk be tried again."""
        if chunk.scanning:
            chunk.filter_count = 0  # Java re-counts filtered items while scanning
        if chunk.items or chunk.write_skips:
            outputs = self._transform(contribution, chunk)
            contribution.filter_count += chunk.filter_count
            self._write(contribution, chunk, outputs)
            self._call_skip_listeners(chunk)

    def _process(self, contribution: StepContribution, chunk: Chunk[I], item: _Item[I]) -> O | None:
        if self.processor is None:
            return self._process_one(item.value)
        attempts = chunk.process_attempts.setdefault(item.key, _Attempts())
        if not self.retry_policy.can_retry(attempts.count, attempts.last):
            # Recovery: the item failed and may not be tried again.
            assert attempts.last is not None
            if _should_skip(self.skip_policy, attempts.last, contribution):
                chunk.remove(item)
                contribution.process_skip_count += 1
                chunk.process_skips.append((item.value, attempts.last))
                return None
            raise NonSkippableProcessError(
                "Non-skippable exception in recoverer while processing"
            ) from attempts.last
        try:
            output = self._process_one(item.value)
        except Exception as exc:
            attempts.count += 1
            attempts.last = exc
            raise ChunkRollback(exc) from exc
        if output is None:
            chunk.filter_count += 1
            chunk.remove(item)  # filtered items are not processed again
        return output

    def _write(
        self, contribution: StepContribution, chunk: Chunk[I], outputs: list[tuple[_Item[I], O]]
    ) -> None:
        attempts = chunk.write_attempts
        if not self.retry_policy.can_retry(attempts.count, attempts.last):
            if not chunk.busy:
                # Recovery after the last attempt: scan only for a skippable failure.
                assert attempts.last is not None
                if not self.skip_policy.should_skip(attempts.last, -1):
                    raise RetryExhaustedError(
                        "Retry exhausted after last attempt in recovery path, but exception is "
                        "not skippable."
                    ) from attempts.last
                chunk.busy = chunk.scanning = True
            self._scan(contribution, chunk, outputs)
            return
        if not outputs:
            return
        try:
            self._write_items([output for _, output in outputs])
        except Exception as exc:
            attempts.count += 1
            attempts.last = exc
            if not self.retry_policy.can_retry(attempts.count, attempts.last):
                chunk.scanning = True  # process one item per transaction from the next one on
            raise ChunkRollback(exc) from exc
        contribution.write_count += len(outputs)

    def _scan(
        self, contribution: StepContribution, chunk: Chunk[I], outputs: list[tuple[_Item[I], O]]
    ) -> None:
        """Write the first remaining item alone; its transaction commits or rolls back alone."""
        if outputs:
            item, output = outputs[0]
            try:
                self._write_items([output])
            except Exception as exc:
                if not _should_skip(self.skip_policy, exc, contribution):
                    raise NonSkippableWriteError("Non-skippable exception in recoverer") from exc
                contribution.write_skip_count += 1
                chunk.remove(item)
                chunk.write_skips.append((output, exc))
                self._end_scan_if_done(chunk)
                raise ChunkRollback(exc) from exc
            contribution.write_count += 1
            chunk.remove(item)
        # An item filtered or skipped while scanning leaves no output: go on with the next one.
        self._end_scan_if_done(chunk)

    @staticmethod
    def _end_scan_if_done(chunk: Chunk[I]) -> None:
        if not chunk.items:
            chunk.scanning = chunk.busy = False

    def _call_skip_listeners(self, chunk: Chunk[I]) -> None:
        for value, exc in chunk.process_skips:
            self.listeners.call("on_skip_in_process", value, exc)
        for output, exc in chunk.write_skips:
            self.listeners.call("on_skip_in_write", output, exc)
        chunk.process_skips = []
        chunk.write_skips = []


def _processing_function(processor: ProcessorLike[I, O]) -> Callable[[I], O | None]:
    method: Callable[[I], O | None] | None = getattr(processor, "process", None)
    if method is not None:
        return method
    assert callable(processor)
    return processor


def _writing_function(writer: WriterLike[O]) -> Callable[[list[O]], object]:
    method: Callable[[list[O]], object] | None = getattr(writer, "write", None)
    if method is not None:
        return method
    assert callable(writer)
    return writer
