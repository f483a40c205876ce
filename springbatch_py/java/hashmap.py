"""The order in which ``java.util.HashMap`` iterates, so Python writes the bytes Java writes.

Spring Batch copies a context into ``new HashMap<>()`` entry by entry before serializing it
(``JdbcExecutionContextDao.serializeContext``, 5.2 and 6.0), and both the Java serialization and the
Jackson output list the entries in that map's iteration order. The order is: buckets in index
order, and within a bucket the insertion order. The bucket is the key's ``String.hashCode``
(over UTF-16 code units, 32-bit wraparound), spread as ``h ^ (h >>> 16)``, masked with
``capacity - 1``. The capacity starts at 16 and doubles when the size exceeds 3/4 of it.

Known gap: once a bucket holds more than 8 keys in a table of at least 64 buckets, Java turns the
bucket into a tree whose iteration order is not the insertion order. Only keys crafted to collide
get there; we keep insertion order for them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

_DEFAULT_CAPACITY = 16
# A bucket reaching this many entries is treeified, but in a table smaller than
# _MIN_TREEIFY_CAPACITY Java doubles the table instead; that changes the capacity it writes.
_TREEIFY_THRESHOLD = 8
_MIN_TREEIFY_CAPACITY = 64


def string_hash(text: str) -> int:
    """Java's ``String.hashCode()`` as an unsigned 32-bit number."""
    data = text.encode("utf-16-be", "surrogatepass")
    h = 0
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def _spread(h: int) -> int:
    return h ^ (h >> 16)


@dataclass(frozen=True)
class HashMapLayout:
    """What ``HashMap.writeObject`` writes: capacity, threshold, and the keys in order."""

    capacity: int
    threshold: int
    keys: tuple[str, ...]


def hashmap_layout(keys: Iterable[str]) -> HashMapLayout:
    """Emulate ``m = new HashMap<>(); for (k : keys) m.put(k, ...)`` on JDK 17.

    An empty map was never resized, so Java writes threshold 0 with the default capacity 16
    (the facts' empty-context sample).
    """
    ordered: Sequence[str] = list(keys)
    if not ordered:
        return HashMapLayout(_DEFAULT_CAPACITY, 0, ())
    hashes = [_spread(string_hash(k)) for k in ordered]
    capacity, threshold = _DEFAULT_CAPACITY, _DEFAULT_CAPACITY * 3 // 4
    counts: Counter[int] = Counter()
    for size, h in enumerate(hashes, start=1):
        if counts[h & (capacity - 1)] >= _TREEIFY_THRESHOLD and capacity < _MIN_TREEIFY_CAPACITY:
            capacity, threshold = capacity * 2, threshold * 2
            counts = Counter(x & (capacity - 1) for x in hashes[: size - 1])
        counts[h & (capacity - 1)] += 1
        if size > threshold:
            capacity, threshold = capacity * 2, threshold * 2
            counts = Counter(x & (capacity - 1) for x in hashes[:size])
    # Resizing splits each bucket keeping the relative order, so every bucket stays in
    # insertion order and a stable sort by final bucket gives Java's iteration order.
    order = sorted(range(len(ordered)), key=lambda i: hashes[i] & (capacity - 1))
    return HashMapLayout(capacity, threshold, tuple(ordered[i] for i in order))


#: The order a serializer writes a map's entries in. ``"insertion"``: the map's own order, so a
#: context read from a Java node is written back byte for byte (reading keeps the stream's
#: order). ``"java"``: the order Java's ``HashMap`` iterates in, so a map built in Python comes
#: out exactly as a Java node would write it. Java reads either.
EntryOrder = Literal["insertion", "java"]


def ordered_keys(values: Mapping[str, object], order: EntryOrder) -> Sequence[str]:
    """The keys of ``values`` in the order a serializer writes them."""
    return hashmap_layout(values).keys if order == "java" else tuple(values)
