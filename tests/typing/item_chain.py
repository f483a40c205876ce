"""A user's job module, type-checked with ``mypy --strict`` by ``test_item_types.py``.

It must check cleanly: every deliberate mismatch below carries a ``type: ignore`` naming the
error it causes, and ``--strict`` (``warn_unused_ignores``) fails on an ignore that is not
needed, so a mismatch that stopped being an error fails the test too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import assert_type

from springbatch_py import (
    ChunkStep,
    CsvItemReader,
    ItemProcessor,
    ItemReader,
    ItemStream,
    ItemWriter,
    IterableItemReader,
    ListItemWriter,
)
from springbatch_py.core.context import ExecutionContext


@dataclass(frozen=True)
class Order:
    id: int
    amount: Decimal


class OrderReader:
    """A reader and stream of its own, without any base class."""

    def __init__(self) -> None:
        self.position = 0

    def read(self) -> Order | None:
        self.position += 1
        return Order(self.position, Decimal(1)) if self.position <= 3 else None

    def open(self, context: ExecutionContext) -> None:
        self.position = context.get_int("orders.position", 0)

    def update(self, context: ExecutionContext) -> None:
        context["orders.position"] = self.position

    def close(self) -> None:
        pass


class Pricing:
    def process(self, item: Order) -> str | None:
        return None if item.amount == 0 else f"{item.id}:{item.amount}"


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, items: list[str]) -> None:
        self.lines.extend(items)


def to_order(row: dict[str, str]) -> Order:
    return Order(int(row["id"]), Decimal(row["amount"]))


# The protocols accept plain classes.
reader: ItemReader[Order] = OrderReader()
stream: ItemStream = OrderReader()
processor: ItemProcessor[Order, str] = Pricing()
writer: ItemWriter[str] = Lines()

# A chain whose types agree: reader of Order, processor Order -> str, writer of str.
priced = ChunkStep("price", reader=OrderReader(), processor=Pricing(), writer=Lines())
assert_type(priced, ChunkStep[Order, str])

# Functions serve as processor and writer; the library's readers and writers are generic.
squares = ChunkStep(
    "squares",
    reader=IterableItemReader(range(10)),
    processor=lambda n: n * n,
    writer=ListItemWriter[int](),
)
assert_type(squares, ChunkStep[int, int])
assert_type(IterableItemReader(["a"]).read(), str | None)
assert_type(CsvItemReader("orders.csv", mapper=to_order).read(), Order | None)
copied = ChunkStep("copy", reader=OrderReader(), writer=ListItemWriter[Order]())
assert_type(copied, ChunkStep[Order, Order])

# Mismatches: each is an error. Without a processor the reader's items go to the writer:
ChunkStep("no-processor", reader=OrderReader(), writer=Lines())  # type: ignore[arg-type]
# the processor's outputs (str) are not what the writer takes (int):
ChunkStep(  # type: ignore[misc]
    "wrong-writer", reader=OrderReader(), processor=Pricing(), writer=ListItemWriter[int]()
)
# the reader's items (int) are not what the processor takes (Order):
ChunkStep(
    "wrong-input",
    reader=IterableItemReader(range(3)),
    processor=Pricing(),  # type: ignore[arg-type]
    writer=Lines(),
)
bad_reader: ItemReader[int] = OrderReader()  # type: ignore[assignment]
