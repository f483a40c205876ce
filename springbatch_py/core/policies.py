"""Skip and retry policies of fault-tolerant chunk steps, with Java's rules.

Exceptions are classified by class: the most specific configured class in the exception's
method resolution order decides (Java's ``BinaryExceptionClassifier``), so ``skip(ValueError)``
with ``no_skip(KeyError)`` skips a ``ValueError`` but not a ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from springbatch_py.core.errors import SkipLimitExceededError


@dataclass(frozen=True)
class ExceptionClassifier:
    """True for exceptions of ``included`` classes, unless a more specific ``excluded`` class
    matches."""

    included: tuple[type[BaseException], ...] = ()
    excluded: tuple[type[BaseException], ...] = ()

    def __call__(self, exc: BaseException) -> bool:
        for cls in type(exc).__mro__:
            if cls in self.excluded:
                return False
            if cls in self.included:
                return True
        return False


@dataclass(frozen=True)
class SkipPolicy:
    """Java's ``LimitCheckingItemSkipPolicy``: skip classified exceptions until the limit."""

    classifier: ExceptionClassifier = field(default_factory=ExceptionClassifier)
    skip_limit: int = 10

    def should_skip(self, exc: BaseException, skip_count: int) -> bool:
        """Whether to skip; raises :class:`SkipLimitExceededError` at the limit.

        ``skip_count`` is the step's skips so far; -1 asks only whether the exception is
        skippable.
        """
        if not self.classifier(exc):
            return False
        if skip_count < self.skip_limit:
            return True
        raise SkipLimitExceededError(
            f"Skip limit of '{self.skip_limit}' exceeded", skip_limit=self.skip_limit, cause=exc
        )


@dataclass(frozen=True)
class RetryPolicy:
    """Java's ``SimpleRetryPolicy``: ``limit`` attempts (the first included) for classified
    exceptions."""

    classifier: ExceptionClassifier = field(default_factory=ExceptionClassifier)
    limit: int = 0

    def can_retry(self, attempts: int, last: BaseException | None) -> bool:
        """Whether another attempt may run after ``attempts`` failed ones."""
        if attempts == 0 or last is None:
            return True
        return self.classifier(last) and attempts < self.limit


def classifier(
    include: Iterable[type[BaseException]] = (), exclude: Iterable[type[BaseException]] = ()
) -> ExceptionClassifier:
    """An :class:`ExceptionClassifier` from two lists of exception classes."""
    return ExceptionClassifier(tuple(include), tuple(exclude))
