"""Python values that keep their Java type: the public names of :mod:`springbatch_py.java.types`.

Kept at this path because jobs import ``Long``, ``Integer`` and the other wrappers from it; the
types themselves live with the rest of the Java emulation in :mod:`springbatch_py.java`.
"""

from springbatch_py.java.types import (
    PARTITION_TRANSFERABLE_PROP,
    BigInteger,
    Byte,
    Double,
    Duration,
    Float,
    Instant,
    Integer,
    JavaEnum,
    JavaValue,
    LocalDateTime,
    LocalTime,
    Long,
    Short,
    date_part,
    date_time_of,
    duration_of,
    is_class_name,
    java_class_of,
    same_java_value,
    time_fields,
    time_of,
)

__all__ = [
    "PARTITION_TRANSFERABLE_PROP",
    "BigInteger",
    "Byte",
    "Double",
    "Duration",
    "Float",
    "Instant",
    "Integer",
    "JavaEnum",
    "JavaValue",
    "LocalDateTime",
    "LocalTime",
    "Long",
    "Short",
    "date_part",
    "date_time_of",
    "duration_of",
    "is_class_name",
    "java_class_of",
    "same_java_value",
    "time_fields",
    "time_of",
]
