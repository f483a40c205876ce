"""Execution-context serializers: reference bytes from real JVMs, round trips, hostile input.

The ``FACTS_*`` vectors are Appendix A / §5 of ``shared/compat/java-wire-facts.md``. The
``JDK_*`` and ``JACKSON_*`` vectors were produced by OpenJDK 17.0.15 with a throwaway Java program
(not part of the repository): each map was built as ``m = new HashMap<>(); m.put(...)`` in the
order of the matching ``*_MAP`` below (the way ``JdbcExecutionContextDao`` copies a context),
with values made by autoboxing / ``valueOf`` (``BigDecimal.valueOf(unscaled, scale)``), then
written with ``ObjectOutputStream.writeObject`` + ``Base64.getEncoder()`` or, for ``JACKSON_*``,
with jackson-databind 2.17.2 + jackson-datatype-jsr310 configured like Spring Batch 5.2's
``Jackson2ExecutionContextStringSerializer`` (``NON_FINAL`` default typing, ``@class`` property,
``JavaTimeModule``). Strings in those maps were distinct objects (``new String``), because Java
back-references only the identical String object, which Python cannot know.

The same throwaway program also read Python's output for a map holding every supported type, in
both formats, and printed the Java class and ``toString`` of each value: all matched.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import struct
import zlib
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from springbatch_py.errors import SpringBatchError
from springbatch_py.java.hashmap import hashmap_layout, string_hash
from springbatch_py.java.tostring import java_double_to_string, java_float_to_string
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
    java_class_of,
    same_java_value,
)
from springbatch_py.repository.serialization import (
    ContextSerializationError,
    ContextSerializer,
    Jackson2ContextSerializer,
    JavaSerializationContextSerializer,
)

P = PARTITION_TRANSFERABLE_PROP
COLOR = "com.example.Color"
NODE_KEY = "AppUse_Cluster-Node-Identifier"
TRANSFER_KEY = "AppUse_Is-Transferable-Identifier"
JAVA = JavaSerializationContextSerializer()
JAVA_ORDER = JavaSerializationContextSerializer(entry_order="java")
JACKSON = Jackson2ContextSerializer([P, COLOR])
JACKSON_ORDER = Jackson2ContextSerializer([P, COLOR], entry_order="java")
WHERE = "step execution 42"


def ms(millis: int) -> datetime:
    """The aware datetime of a java.util.Date."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)


def same(a: Any, b: Any) -> bool:
    """``same_java_value`` that also accepts the nulls lists and nested maps may hold."""
    if a is None or b is None:
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return same_java_value(a, b)


# -- reference vectors --------------------------------------------------------------------------

# Facts §5.4: the empty context, as Spring Batch 5.2 and 6.0 write it (threshold 0, capacity 16).
FACTS_EMPTY = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAB3CAAAABAAAAAAeA=="
)
# Facts A.1: a Java-written cluster partition context.
FACTS_A1 = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAx3CAAAABAAAAAGdAAKc3RhcnRSYW5nZXNyAA5qYXZhLmxhbmcuTG9uZzuL5JDMjyPfAgABSgAFdmFsdWV4cgAQamF2"
    "YS5sYW5nLk51bWJlcoaslR0LlOCLAgAAeHAAAAAAAAAAAHQABGZsYWdzcgARamF2YS5sYW5nLkJvb2xlYW7NIHKA1Zz6"
    "7gIAAVoABXZhbHVleHABdAAeQXBwVXNlX0NsdXN0ZXItTm9kZS1JZGVudGlmaWVydAAGbm9kZS1hdAAFY291bnRzcgAR"
    "amF2YS5sYW5nLkludGVnZXIS4qCk94GHOAIAAUkABXZhbHVleHEAfgAEAAAAB3QAIUFwcFVzZV9Jcy1UcmFuc2ZlcmFi"
    "bGUtSWRlbnRpZmllcn5yAE5pby5naXRodWIuamNoZWphcmxhLnNwcmluZ2JhdGNoLmNsdXN0ZXJpbmcucGFydGl0aW9u"
    "LlBhcnRpdGlvblRyYW5zZmVyYWJsZVByb3AAAAAAAAAAABIAAHhyAA5qYXZhLmxhbmcuRW51bQAAAAAAAAAAEgAAeHB0"
    "AANZRVN0AAVyYXRpb3NyABBqYXZhLmxhbmcuRG91YmxlgLPCSilr+wQCAAFEAAV2YWx1ZXhxAH4ABD/gAAAAAAAAeA=="
)
# Facts A.2 / §8.8: the enum-only map.
FACTS_A2 = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAx3CAAAABAAAAABdAAhQXBwVXNlX0lzLVRyYW5zZmVyYWJsZS1JZGVudGlmaWVyfnIATmlvLmdpdGh1Yi5qY2hlamFy"
    "bGEuc3ByaW5nYmF0Y2guY2x1c3RlcmluZy5wYXJ0aXRpb24uUGFydGl0aW9uVHJhbnNmZXJhYmxlUHJvcAAAAAAAAAAA"
    "EgAAeHIADmphdmEubGFuZy5FbnVtAAAAAAAAAAASAAB4cHQAA1lFU3g="
)
# Facts A.3: written by an earlier Python prototype in *insertion* order and accepted by Java.
# Java itself lists entries in HashMap bucket order; JDK_A3_RESERIALIZED is what OpenJDK 17
# writes after reading A.3 and copying it like the DAO does, and what our writer must produce.
FACTS_A3 = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAx3CAAAABAAAAAFdAAeQXBwVXNlX0NsdXN0ZXItTm9kZS1JZGVudGlmaWVydAAJcHktbm9kZS0xdAAhQXBwVXNlX0lz"
    "LVRyYW5zZmVyYWJsZS1JZGVudGlmaWVyfnIATmlvLmdpdGh1Yi5qY2hlamFybGEuc3ByaW5nYmF0Y2guY2x1c3Rlcmlu"
    "Zy5wYXJ0aXRpb24uUGFydGl0aW9uVHJhbnNmZXJhYmxlUHJvcAAAAAAAAAAAEgAAeHIADmphdmEubGFuZy5FbnVtAAAA"
    "AAAAAAASAAB4cHQAAk5PdAAFc3RhcnRzcgAOamF2YS5sYW5nLkxvbmc7i+SQzI8j3wIAAUoABXZhbHVleHIAEGphdmEu"
    "bGFuZy5OdW1iZXKGrJUdC5TgiwIAAHhwAAAAAAAAAGR0AANlbmRzcQB+AAoAAAAAAAAAyHQAAW5zcgARamF2YS5sYW5n"
    "LkludGVnZXIS4qCk94GHOAIAAUkABXZhbHVleHEAfgALAAAAA3g="
)
# Facts §5.5: Jackson 2 output for a partition context (Spring Batch 5.1.1, Jackson 2.15).
FACTS_JACKSON = (
    '{"@class":"java.util.HashMap","startRange":["java.lang.Long",0],"date":["java.util.Date",'
    '1706695200000],"flag":true,"AppUse_Cluster-Node-Identifier":"node-a","count":7,'
    '"AppUse_Is-Transferable-Identifier":["io.github.jchejarla.springbatch.clustering.partition.'
    'PartitionTransferableProp","YES"],"when":["java.time.LocalDate",[2024,1,31]],"ratio":0.5}'
)

# OpenJDK 17 ObjectOutputStream output (see the module docstring).
JDK_NUMBERS = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAx3CAAAABAAAAALdAAGZmxvYXQyc3IAD2phdmEubGFuZy5GbG9hdNrtyaLbPPDsAgABRgAFdmFsdWV4cgAQamF2YS5s"
    "YW5nLk51bWJlcoaslR0LlOCLAgAAeHA9zMzNdAAEZGluZnNyABBqYXZhLmxhbmcuRG91YmxlgLPCSilr+wQCAAFEAAV2"
    "YWx1ZXhxAH4ABH/wAAAAAAAAdAAEZG5lZ3NxAH4AB4AAAAAAAAAAdAAEbG1pbnNyAA5qYXZhLmxhbmcuTG9uZzuL5JDM"
    "jyPfAgABSgAFdmFsdWV4cQB+AASAAAAAAAAAAHQABGZuYW5zcQB+AAN/wAAAdAAEYnl0ZXNyAA5qYXZhLmxhbmcuQnl0"
    "ZZxOYITuUPUcAgABQgAFdmFsdWV4cQB+AAT9dAAEaW1pbnNyABFqYXZhLmxhbmcuSW50ZWdlchLioKT3gYc4AgABSQAF"
    "dmFsdWV4cQB+AASAAAAAdAAEZG5hbnNxAH4AB3/4AAAAAAAAdAAFc2hvcnRzcgAPamF2YS5sYW5nLlNob3J0aE03EzRg"
    "2lICAAFTAAV2YWx1ZXhxAH4ABAAHdAAEbG1heHNxAH4ADH//////////dAAFZmxvYXRzcQB+AAM/wAAAeA=="
)

JDK_SHARED = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "ABh3CAAAACAAAAASdAABYXNyAA5qYXZhLmxhbmcuTG9uZzuL5JDMjyPfAgABSgAFdmFsdWV4cgAQamF2YS5sYW5nLk51"
    "bWJlcoaslR0LlOCLAgAAeHAAAAAAAAAABXQAAWJxAH4ABXQAAWNzcQB+AAMAAAAAAAAD6HQAAWRzcQB+AAMAAAAAAAAD"
    "6HQAAWZzcgARamF2YS5sYW5nLkJvb2xlYW7NIHKA1Zz67gIAAVoABXZhbHVleHAAdAABZ35yABFjb20uZXhhbXBsZS5D"
    "b2xvcgAAAAAAAAAAEgAAeHIADmphdmEubGFuZy5FbnVtAAAAAAAAAAASAAB4cHQABUdSRUVOdAABaXNyABFqYXZhLmxh"
    "bmcuSW50ZWdlchLioKT3gYc4AgABSQAFdmFsdWV4cQB+AAQAAAAFdAACaTJxAH4AFXQAAmUxfnIATmlvLmdpdGh1Yi5q"
    "Y2hlamFybGEuc3ByaW5nYmF0Y2guY2x1c3RlcmluZy5wYXJ0aXRpb24uUGFydGl0aW9uVHJhbnNmZXJhYmxlUHJvcAAA"
    "AAAAAAAAEgAAeHEAfgAQdAADWUVTdAACZTJxAH4AGXQAAmUzfnEAfgAYdAACTk90AAFyfnEAfgAPdAADUkVEdAADYnky"
    "c3IADmphdmEubGFuZy5CeXRlnE5ghO5Q9RwCAAFCAAV2YWx1ZXhxAH4ABGR0AANieTFxAH4AJHQAAnQxc3EAfgAMAXQA"
    "AnQycQB+ACd0AAJzMXNyAA9qYXZhLmxhbmcuU2hvcnRoTTcTNGDaUgIAAVMABXZhbHVleHEAfgAE/4B0AAJzMnEAfgAr"
    "eA=="
)

JDK_BIGS = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "ABh3CAAAACAAAAARdAACaTFzcgAUamF2YS5tYXRoLkJpZ0ludGVnZXKM/J8fqTv7HQMABkkACGJpdENvdW50SQAJYml0"
    "TGVuZ3RoSQATZmlyc3ROb256ZXJvQnl0ZU51bUkADGxvd2VzdFNldEJpdEkABnNpZ251bVsACW1hZ25pdHVkZXQAAltC"
    "eHIAEGphdmEubGFuZy5OdW1iZXKGrJUdC5TgiwIAAHhw///////////////+/////gAAAAB1cgACW0Ks8xf4BghU4AIA"
    "AHhwAAAAAHh0AAJpMnNxAH4AA////////////////v////7/////dXEAfgAHAAAAAQd4dAACaTNzcQB+AAP/////////"
    "//////7////+AAAAAXVxAH4ABwAAAA0BjukP9sNz4O5OPwrSeHQAAmk0c3EAfgAD///////////////+/////v////91"
    "cQB+AAcAAAARAQAAAAAAAAAAAAAAAAAAAAB4dAACaTVzcQB+AAP///////////////7////+AAAAAXVxAH4ABwAAAAH/"
    "eHQAAmQxc3IAFGphdmEubWF0aC5CaWdEZWNpbWFsVMcVV/mBKE8DAAJJAAVzY2FsZUwABmludFZhbHQAFkxqYXZhL21h"
    "dGgvQmlnSW50ZWdlcjt4cQB+AAUAAAACc3EAfgAD///////////////+/////gAAAAF1cQB+AAcAAAABlnh4dAACaTZz"
    "cQB+AAP///////////////7////+AAAAAXVxAH4ABwAAAAEPeHQAAmQyc3EAfgAWAAAAAHNxAH4AA///////////////"
    "/v////4AAAABdXEAfgAHAAAAAQV4eHQAAmk3c3EAfgAD///////////////+/////v////91cQB+AAcAAAABgHh0AAJk"
    "M3EAfgAfdAACaThzcQB+AAP///////////////7////+AAAAAXVxAH4ABwAAAAQBAAAAeHQAAmQ0c3EAfgAWAAAAA3Nx"
    "AH4AA////////////////v////7/////dXEAfgAHAAAADgYWPmZb63ymouGmQkTLeHh0AAJkNXNxAH4AFv////1zcQB+"
    "AAP///////////////7////+AAAAAXVxAH4ABwAAAAEBeHh0AAJkNnNxAH4AFgAAAAJxAH4ABnh0AAJkN3NxAH4AFgAA"
    "AAFzcQB+AAP///////////////7////+AAAAAXVxAH4ABwAAAAGbeHh0AAJkOHNxAH4AFgAAAABzcQB+AAP/////////"
    "//////7////+/////3VxAH4ABwAAAAiAAAAAAAAAAHh4dAACZDlzcQB+ABYAAAAEcQB+ADl4eA=="
)

JDK_TIME = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "ADB3CAAAAEAAAAAZdAAEZGF0ZXNyAA5qYXZhLnV0aWwuRGF0ZWhqgQFLWXQZAwAAeHB3CAAAAY1e9g17eHQAA2R1MnNy"
    "AA1qYXZhLnRpbWUuU2VylV2EuhsiSLIMAAB4cHcNAQAAAAAAAAAAAAAAAHh0AANkdTFzcQB+AAZ3DQEAAAAAAAAOEAAA"
    "AAB4dAADZHU0c3EAfgAGdw0B//////////4dzWUAeHQAA2R1M3EAfgAHdAAEbGR0MnNxAH4ABncOBQAAB+gBHwoAAB3N"
    "ZQB4dAAEbGR0M3NxAH4ABncKBQAAB+gBHwAA+Hh0AANkdTVzcQB+AAZ3DQEAAAAAAAFfzQAAA+h4dAAEbGR0MXNxAH4A"
    "BncIBQAAB+gBH/V4dAADbHQxc3EAfgAGdwIE9Xh0AANsdDNzcQB+AAZ3AwQK4Xh0AANsdDJxAH4AFnQAA2x0NXNxAH4A"
    "BncIBAoeDwdbygB4dAADaW4yc3EAfgAGdw0CAAAAAAAAAAAAAAAAeHQABWRhdGUwc3EAfgADdwj//////////3h0AANs"
    "dDRzcQB+AAZ3BAQKHvB4dAADaW4xc3EAfgAGdw0CAAAAAGW6GiAHW80VeHQAA2x0N3NxAH4ABncIBBc7Ozuaxhh4dAAD"
    "aW40c3EAfgAGdw0C//////////8AAAAFeHQAA2x0NnNxAH4ABncCBP94dAADaW4zcQB+AB10AANsdDhzcQB+AAZ3CAQA"
    "AAAAAAPoeHQAAmxkc3EAfgAGdwcDAAAH6AEfeHQAA2xkM3NxAH4ABncHAwAAJw8MH3h0AANsZDJzcQB+AAZ3BwMAAAAB"
    "AQF4eA=="
)

JDK_CONTAINERS = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAx3CAAAABAAAAAFdAABZX5yAE5pby5naXRodWIuamNoZWphcmxhLnNwcmluZ2JhdGNoLmNsdXN0ZXJpbmcucGFydGl0"
    "aW9uLlBhcnRpdGlvblRyYW5zZmVyYWJsZVByb3AAAAAAAAAAABIAAHhyAA5qYXZhLmxhbmcuRW51bQAAAAAAAAAAEgAA"
    "eHB0AAJOT3QACGVtcHR5bWFwc3EAfgAAP0AAAAAAAAB3CAAAABAAAAAAeHQABGxpc3RzcgATamF2YS51dGlsLkFycmF5"
    "TGlzdHiB0h2Zx2GdAwABSQAEc2l6ZXhwAAAABXcEAAAABXNyAA5qYXZhLmxhbmcuTG9uZzuL5JDMjyPfAgABSgAFdmFs"
    "dWV4cgAQamF2YS5sYW5nLk51bWJlcoaslR0LlOCLAgAAeHAAAAAAAAAAAXQAAXhzcgARamF2YS5sYW5nLkJvb2xlYW7N"
    "IHKA1Zz67gIAAVoABXZhbHVleHABc3EAfgAKAAAAAHcEAAAAAHhzcQB+AAA/QAAAAAAADHcIAAAAEAAAAAJ0AAFlcQB+"
    "AAV0AAFrc3IAEWphdmEubGFuZy5JbnRlZ2VyEuKgpPeBhzgCAAFJAAV2YWx1ZXhxAH4ADQAAAAF4eHQAA21hcHNxAH4A"
    "AD9AAAAAAAAMdwgAAAAQAAAAAXQABGRlZXBzcQB+AAoAAAADdwQAAAADc3EAfgAWAAAAAnNyABBqYXZhLmxhbmcuRG91"
    "YmxlgLPCSilr+wQCAAFEAAV2YWx1ZXhxAH4ADUAMAAAAAAAAdAABenh4dAAFZW1wdHlzcQB+AAoAAAAAdwQAAAAAeHg="
)

JDK_STRINGS = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAx3CAAAABAAAAAGdAAAdAAAdAADbnVsdAAEYcCAYnQABWVtb2ppdAAIeO2gve24gHl0AAjQutC70Y7Rh3QAENC30L3Q"
    "sNGH0LXQvdC40LV0AARsb25ldAAD7aCAdAADdHdvdAAK37/CgOCggO+/v3g="
)

JDK_CAP12 = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAx3CAAAABAAAAAMdAAEa2V5MXNyAA5qYXZhLmxhbmcuTG9uZzuL5JDMjyPfAgABSgAFdmFsdWV4cgAQamF2YS5sYW5n"
    "Lk51bWJlcoaslR0LlOCLAgAAeHAAAAAAAAAAAXQABGtleTJzcQB+AAMAAAAAAAAAAnQABGtleTBzcQB+AAMAAAAAAAAA"
    "AHQABGtleTVzcQB+AAMAAAAAAAAABXQABGtleTZzcQB+AAMAAAAAAAAABnQABGtleTNzcQB+AAMAAAAAAAAAA3QABGtl"
    "eTRzcQB+AAMAAAAAAAAABHQABGtleTlzcQB+AAMAAAAAAAAACXQABGtleTdzcQB+AAMAAAAAAAAAB3QABGtleThzcQB+"
    "AAMAAAAAAAAACHQABWtleTExc3EAfgADAAAAAAAAAAt0AAVrZXkxMHNxAH4AAwAAAAAAAAAKeA=="
)

JDK_CAP13 = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "ABh3CAAAACAAAAANdAAEa2V5MXNyAA5qYXZhLmxhbmcuTG9uZzuL5JDMjyPfAgABSgAFdmFsdWV4cgAQamF2YS5sYW5n"
    "Lk51bWJlcoaslR0LlOCLAgAAeHAAAAAAAAAAAXQABGtleTJzcQB+AAMAAAAAAAAAAnQABGtleTBzcQB+AAMAAAAAAAAA"
    "AHQABGtleTVzcQB+AAMAAAAAAAAABXQABGtleTZzcQB+AAMAAAAAAAAABnQABGtleTNzcQB+AAMAAAAAAAAAA3QABGtl"
    "eTRzcQB+AAMAAAAAAAAABHQABGtleTlzcQB+AAMAAAAAAAAACXQABGtleTdzcQB+AAMAAAAAAAAAB3QABGtleThzcQB+"
    "AAMAAAAAAAAACHQABWtleTExc3EAfgADAAAAAAAAAAt0AAVrZXkxMHNxAH4AAwAAAAAAAAAKdAAFa2V5MTJzcQB+AAMA"
    "AAAAAAAADHg="
)

JDK_CAP25 = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "ADB3CAAAAEAAAAAZdAADazExc3IAEWphdmEubGFuZy5JbnRlZ2VyEuKgpPeBhzgCAAFJAAV2YWx1ZXhyABBqYXZhLmxh"
    "bmcuTnVtYmVyhqyVHQuU4IsCAAB4cAAAAAt0AANrMTBzcQB+AAMAAAAKdAADazEzc3EAfgADAAAADXQAA2sxMnNxAH4A"
    "AwAAAAx0AANrMTVzcQB+AAMAAAAPdAADazE0c3EAfgADAAAADnQAA2sxN3NxAH4AAwAAABF0AANrMTZzcQB+AAMAAAAQ"
    "dAADazE5c3EAfgADAAAAE3QAA2sxOHNxAH4AAwAAABJ0AAJrMHNxAH4AAwAAAAB0AAJrMXNxAH4AAwAAAAF0AAJrMnNx"
    "AH4AAwAAAAJ0AAJrM3NxAH4AAwAAAAN0AANrMjBzcQB+AAMAAAAUdAACazRzcQB+AAMAAAAEdAACazVzcQB+AAMAAAAF"
    "dAADazIyc3EAfgADAAAAFnQAAms2c3EAfgADAAAABnQAA2syMXNxAH4AAwAAABV0AAJrN3NxAH4AAwAAAAd0AANrMjRz"
    "cQB+AAMAAAAYdAACazhzcQB+AAMAAAAIdAADazIzc3EAfgADAAAAF3QAAms5c3EAfgADAAAACXg="
)

JDK_COLLIDE = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAx3CAAAABAAAAAFdAACQkJzcgARamF2YS5sYW5nLkludGVnZXIS4qCk94GHOAIAAUkABXZhbHVleHIAEGphdmEubGFu"
    "Zy5OdW1iZXKGrJUdC5TgiwIAAHhwAAAAAXQAAkFhc3EAfgADAAAAAnQAAsCAc3EAfgADAAAABXQAAXFzcQB+AAMAAAAD"
    "dAABYXNxAH4AAwAAAAR4"
)

JDK_COLLIDE10 = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "ADB3CAAAAEAAAAAKdAAIQWFBYUFhQWFzcgARamF2YS5sYW5nLkludGVnZXIS4qCk94GHOAIAAUkABXZhbHVleHIAEGph"
    "dmEubGFuZy5OdW1iZXKGrJUdC5TgiwIAAHhwAAAAAHQACEJCQWFBYUFhc3EAfgADAAAAAXQACEFhQWFCQkFhc3EAfgAD"
    "AAAAAnQACEJCQWFCQkFhc3EAfgADAAAAA3QACEFhQkJBYUFhc3EAfgADAAAABHQACEJCQkJBYUFhc3EAfgADAAAABXQA"
    "CEFhQkJCQkFhc3EAfgADAAAABnQACEJCQkJCQkFhc3EAfgADAAAAB3QACEFhQWFBYUJCc3EAfgADAAAACHQACEJCQWFB"
    "YUJCc3EAfgADAAAACXg="
)

# A java.util.LinkedHashMap {"z": 1L, "a": "b"}: read as a dict (we always write HashMap).
JDK_LINKED = (
    "rO0ABXNyABdqYXZhLnV0aWwuTGlua2VkSGFzaE1hcDTATlwQbMD7AgABWgALYWNjZXNzT3JkZXJ4cgARamF2YS51dGls"
    "Lkhhc2hNYXAFB9rBwxZg0QMAAkYACmxvYWRGYWN0b3JJAAl0aHJlc2hvbGR4cD9AAAAAAAAMdwgAAAAQAAAAAnQAAXpz"
    "cgAOamF2YS5sYW5nLkxvbmc7i+SQzI8j3wIAAUoABXZhbHVleHIAEGphdmEubGFuZy5OdW1iZXKGrJUdC5TgiwIAAHhw"
    "AAAAAAAAAAF0AAFhdAABYngA"
)

# LONGSTRINGS_MAP is about 290 KB of Base64, so the JDK text is kept zlib-compressed.
JDK_LONGSTRINGS_ZLIB = (
    "eNrtyV1LwnAYxuGP5FILPPDgr3MblVmLTHdmyxz4Uia18tP3/hUC4brh4sfD8zyKQm9y8R56yXY6KarzzTia3dYv12my"
    "nw2OqjLcZM1dFifrOA916OeLcHaXdqpiUFTTVv5aLpehP8kfy/V4P0s7uyKr6sso/O6t1f9K7/uI7z9N16vNw987T+p5"
    "VrUBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA4dFehl46XRXMcNRqd4/lkBQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIckCuF0NdzU4WeD9mI4"
    "eqpPNvG2VFVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"
    "VVVVVVXV/+o8dLsfchF9uQ=="
)

# OpenJDK 17 reading FACTS_A3, copying the map into new HashMap<>() by put, writing it again.
JDK_A3_RESERIALIZED = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAA"
    "AAx3CAAAABAAAAAFdAAeQXBwVXNlX0NsdXN0ZXItTm9kZS1JZGVudGlmaWVydAAJcHktbm9kZS0xdAAFc3RhcnRzcgAO"
    "amF2YS5sYW5nLkxvbmc7i+SQzI8j3wIAAUoABXZhbHVleHIAEGphdmEubGFuZy5OdW1iZXKGrJUdC5TgiwIAAHhwAAAA"
    "AAAAAGR0AANlbmRzcQB+AAUAAAAAAAAAyHQAIUFwcFVzZV9Jcy1UcmFuc2ZlcmFibGUtSWRlbnRpZmllcn5yAE5pby5n"
    "aXRodWIuamNoZWphcmxhLnNwcmluZ2JhdGNoLmNsdXN0ZXJpbmcucGFydGl0aW9uLlBhcnRpdGlvblRyYW5zZmVyYWJs"
    "ZVByb3AAAAAAAAAAABIAAHhyAA5qYXZhLmxhbmcuRW51bQAAAAAAAAAAEgAAeHB0AAJOT3QAAW5zcgARamF2YS5sYW5n"
    "LkludGVnZXIS4qCk94GHOAIAAUkABXZhbHVleHEAfgAGAAAAA3g="
)

# jackson-databind 2.17.2 on OpenJDK 17 (see the module docstring).
JACKSON_EMPTY = '{"@class":"java.util.HashMap"}'

JACKSON_SCALARS = (
    '{"@class":"java.util.HashMap","b":true,"bd":["java.math.BigDecimal",1.50],"d":0.'
    '5,"e":["io.github.jchejarla.springbatch.clustering.partition.PartitionTransferab'
    'leProp","YES"],"lbig":["java.lang.Long",-9223372036854775808],"f":["java.lang.Fl'
    'oat",0.1],"bi":["java.math.BigInteger",-123456789012345678901234567890],"i":7,"l'
    '":["java.lang.Long",0],"f2":["java.lang.Float",1.0E10],"f3":["java.lang.Float",3'
    '.0],"d2":1.0E10,"d3":1.0E-5,"d4":1.23456789E8,"bd3":["java.math.BigDecimal",-1E-'
    '7],"d5":-0.0,"bd2":["java.math.BigDecimal",1E+3],"s":"t\\"e\\\\s\\n\\t\\u0001\\u001F\x7f/é'
    '\u2028😀","bd4":["java.math.BigDecimal",123456789012345678901234567890.5],"sh":["java.'
    'lang.Short",-2],"by":["java.lang.Byte",3]}'
)

JACKSON_TIME = (
    '{"@class":"java.util.HashMap","date":["java.util.Date",1706695200123],"du2":["ja'
    'va.time.Duration",0.0],"du1":["java.time.Duration",3600.000000000],"du4":["java.'
    'time.Duration",0.000001000],"ldt2":["java.time.LocalDateTime",[2024,1,31,10,0,0,'
    '500000000]],"ldt3":["java.time.LocalDateTime",[2024,1,31,10,0,7]],"ldt1":["java.'
    'time.LocalDateTime",[2024,1,31,10,0]],"lt1":["java.time.LocalTime",[10,0]],"lt3"'
    ':["java.time.LocalTime",[10,0,0,1000]],"date2":["java.util.Date",-1],"lt2":["jav'
    'a.time.LocalTime",[10,0,5]],"in2":["java.time.Instant",0.0],"lt4":["java.time.Lo'
    'calTime",[0,0]],"in1":["java.time.Instant",1706695200.123456789],"in4":["java.ti'
    'me.Instant",1706695200.000000000],"in3":["java.time.Instant",-1.000000005],"in6"'
    ':["java.time.Instant",-5.000000000],"in5":["java.time.Instant",5E-9],"ld":["java'
    '.time.LocalDate",[2024,1,31]]}'
)

# Duration.ofSeconds(-2, 500000000), i.e. -1.5 s, as Jackson writes it.
JACKSON_DURATIONQUIRK = '{"@class":"java.util.HashMap","d":["java.time.Duration",-1.500000000]}'

JACKSON_CONTAINERS = (
    '{"@class":"java.util.HashMap","emptymap":{"@class":"java.util.HashMap"},"nulls":'
    '["java.util.ArrayList",[null,1]],"list":["java.util.ArrayList",[["java.lang.Long'
    '",1],"x",true,["java.util.ArrayList",[]],3,{"@class":"java.util.HashMap","e":["i'
    'o.github.jchejarla.springbatch.clustering.partition.PartitionTransferableProp","'
    'NO"],"k":1}]],"empty":["java.util.ArrayList",[]]}'
)

# -- the maps the vectors hold, in Java's put order ----------------------------------------------

A1_MAP = {
    "startRange": Long(0),
    "flag": True,
    NODE_KEY: "node-a",
    "count": Integer(7),
    TRANSFER_KEY: JavaEnum(P, "YES"),
    "ratio": Double(0.5),
}
A2_MAP = {TRANSFER_KEY: JavaEnum(P, "YES")}
A3_MAP = {
    NODE_KEY: "py-node-1",
    TRANSFER_KEY: JavaEnum(P, "NO"),
    "start": Long(100),
    "end": Long(200),
    "n": Integer(3),
}
NUMBERS_MAP = {
    "short": Short(7),
    "byte": Byte(-3),
    "float": Float(1.5),
    "float2": Float(0.1),
    "lmin": Long(-(2**63)),
    "lmax": Long(2**63 - 1),
    "imin": Integer(-(2**31)),
    "dneg": Double(-0.0),
    "dnan": Double(math.nan),
    "dinf": Double(math.inf),
    "fnan": Float(math.nan),
}
# Equal small boxed values, booleans and enum constants are one object in Java (valueOf caches),
# so the second occurrence is a back-reference; Long 1000 is not cached.
SHARED_MAP = {
    "a": 5,
    "b": Long(5),
    "c": 1000,
    "d": 1000,
    "t1": True,
    "t2": True,
    "f": False,
    "e1": JavaEnum(P, "YES"),
    "e2": JavaEnum(P, "YES"),
    "e3": JavaEnum(P, "NO"),
    "i": Integer(5),
    "i2": Integer(5),
    "s1": Short(-128),
    "s2": Short(-128),
    "by1": Byte(100),
    "by2": Byte(100),
    "g": JavaEnum(COLOR, "GREEN"),  # a constant with a body: Java writes the enum's own class
    "r": JavaEnum(COLOR, "RED"),
}
BIGS_MAP = {
    "d1": Decimal("1.50"),
    "d2": Decimal("5"),  # BigDecimal.valueOf(5) is a cached object: written once
    "d3": Decimal("5"),
    "d4": Decimal("-123456789012345678901234567890.123"),
    "d5": Decimal("1E+3"),
    "d6": Decimal("0.00"),  # cached ZERO_SCALED_BY[2], its unscaled value is BigInteger.ZERO
    "d7": Decimal("15.5"),
    "d8": Decimal("-9223372036854775808"),  # Long.MIN_VALUE unscaled: Java's shared constant
    "d9": Decimal("-922337203685477.5808"),
    "i1": BigInteger(0),
    "i2": BigInteger(-7),
    "i3": BigInteger(123456789012345678901234567890),
    "i4": BigInteger(-(2**128)),
    "i5": BigInteger(255),
    "i6": BigInteger(15),
    "i7": BigInteger(-128),
    "i8": BigInteger(2**24),
}
TIME_MAP = {
    "date": ms(1706695200123),
    "date0": ms(-1),
    "ld": date(2024, 1, 31),
    "ld2": date(1, 1, 1),
    "ld3": date(9999, 12, 31),
    "lt1": time(10),  # LocalTime.of(10, 0) is a cached constant: written once
    "lt2": time(10),
    "lt3": time(10, 30),
    "lt4": time(10, 30, 15),
    "lt5": time(10, 30, 15, 123456),
    "lt6": time(0),
    "lt7": time(23, 59, 59, 999999),
    "lt8": time(0, 0, 0, 1),
    "ldt1": datetime(2024, 1, 31, 10),
    "ldt2": datetime(2024, 1, 31, 10, 0, 0, 500000),
    "ldt3": datetime(2024, 1, 31, 0, 0, 7),
    "in1": Instant(1706695200, 123456789),
    "in2": Instant(0),  # Instant.EPOCH: written once
    "in3": Instant(0),
    "in4": Instant(-1, 5),
    "du1": timedelta(hours=1),
    "du2": timedelta(0),  # Duration.ZERO: written once
    "du3": timedelta(0),
    "du4": timedelta(seconds=-1.5),
    "du5": timedelta(seconds=90061, microseconds=1),
}
CONTAINERS_MAP = {
    "list": [Long(1), "x", True, [], {"k": Integer(1), "e": JavaEnum(P, "NO")}],
    "empty": [],
    "emptymap": {},
    "map": {"deep": [Integer(2), Double(3.5), "z"]},
    "e": JavaEnum(P, "NO"),
}
STRINGS_MAP = {
    "nul": "a\x00b",  # modified UTF-8: C0 80
    "emoji": "x\U0001f600y",  # two 3-byte surrogates
    "lone": "\ud800",
    "ключ": "значение",
    "": "",
    "two": "\u07ff\u0080\u0800\uffff",
}
LONGSTRINGS_MAP = {"big": "x" * 70000, "edge": "y" * 65535, "e2": "\u00e9" * 40000}
CAP12_MAP = {f"key{i}": Long(i) for i in range(12)}  # 16 buckets, threshold 12
CAP13_MAP = {f"key{i}": Long(i) for i in range(13)}  # resized: 32 buckets, threshold 24
CAP25_MAP = {f"k{i}": Integer(i) for i in range(25)}  # 64 buckets, threshold 48
COLLIDE_MAP = {
    "BB": Integer(1),
    "Aa": Integer(2),
    "q": Integer(3),
    "a": Integer(4),
    "\x00": Integer(5),
}
# Ten keys with one hash code: the 9th and 10th puts resize the table instead of treeifying it.
COLLIDE10_MAP = {
    p4 + p2 + p3 + p1: Integer(n)
    for n, (p1, p2, p3, p4) in enumerate(
        itertools.islice(itertools.product(("Aa", "BB"), repeat=4), 10)
    )
}

JDK_VECTORS = [
    ("empty", FACTS_EMPTY, {}),
    ("A1", FACTS_A1, A1_MAP),
    ("A2", FACTS_A2, A2_MAP),
    ("A3", JDK_A3_RESERIALIZED, A3_MAP),
    ("numbers", JDK_NUMBERS, NUMBERS_MAP),
    ("shared", JDK_SHARED, SHARED_MAP),
    ("bigs", JDK_BIGS, BIGS_MAP),
    ("time", JDK_TIME, TIME_MAP),
    ("containers", JDK_CONTAINERS, CONTAINERS_MAP),
    ("strings", JDK_STRINGS, STRINGS_MAP),
    (
        "longstrings",
        zlib.decompress(base64.b64decode(JDK_LONGSTRINGS_ZLIB)).decode(),
        LONGSTRINGS_MAP,
    ),
    ("cap12", JDK_CAP12, CAP12_MAP),
    ("cap13", JDK_CAP13, CAP13_MAP),
    ("cap25", JDK_CAP25, CAP25_MAP),
    ("collide", JDK_COLLIDE, COLLIDE_MAP),
    ("collide10", JDK_COLLIDE10, COLLIDE10_MAP),
]

JACKSON_SCALARS_MAP = {
    "s": 't"e\\s\n\t\x01\x1f\x7f/\u00e9\u2028\U0001f600',
    "b": True,
    "i": Integer(7),
    "l": Long(0),
    "lbig": Long(-(2**63)),
    "d": Double(0.5),
    "d2": 1e10,
    "d3": 1e-5,
    "d4": 123456789.0,
    "d5": -0.0,
    "sh": Short(-2),
    "by": Byte(3),
    "f": Float(0.1),
    "f2": Float(1e10),
    "f3": Float(3.0),
    "bd": Decimal("1.50"),
    "bd2": Decimal("1E+3"),
    "bd3": Decimal("-1E-7"),
    "bd4": Decimal("123456789012345678901234567890.5"),
    "bi": BigInteger(-123456789012345678901234567890),
    "e": JavaEnum(P, "YES"),
}
JACKSON_TIME_MAP = {
    "date": ms(1706695200123),
    "date2": ms(-1),
    "ld": date(2024, 1, 31),
    "lt1": time(10),
    "lt2": time(10, 0, 5),
    "lt3": time(10, 0, 0, 1),
    "lt4": time(0),
    "ldt1": datetime(2024, 1, 31, 10),
    "ldt2": datetime(2024, 1, 31, 10, 0, 0, 500000),
    "ldt3": datetime(2024, 1, 31, 10, 0, 7),
    "in1": Instant(1706695200, 123456789),
    "in2": Instant(0),
    "in3": Instant(-1, 5),
    "in4": Instant(1706695200),
    "in5": Instant(0, 5),
    "in6": Instant(-5),
    "du1": timedelta(hours=1),
    "du2": timedelta(0),
    "du4": timedelta(microseconds=1),
}
JACKSON_CONTAINERS_MAP = {
    "list": [Long(1), "x", True, [], Integer(3), {"k": Integer(1), "e": JavaEnum(P, "NO")}],
    "empty": [],
    "emptymap": {},
    "nulls": [None, Integer(1)],
}
FACTS_JACKSON_MAP = {
    "startRange": Long(0),
    "date": ms(1706695200000),
    "flag": True,
    NODE_KEY: "node-a",
    "count": Integer(7),
    TRANSFER_KEY: JavaEnum(P, "YES"),
    "when": date(2024, 1, 31),
    "ratio": 0.5,
}
JACKSON_VECTORS = [
    ("empty", JACKSON_EMPTY, {}),
    ("facts", FACTS_JACKSON, FACTS_JACKSON_MAP),
    ("scalars", JACKSON_SCALARS, JACKSON_SCALARS_MAP),
    ("time", JACKSON_TIME, JACKSON_TIME_MAP),
    ("containers", JACKSON_CONTAINERS, JACKSON_CONTAINERS_MAP),
]


# -- reference vectors, both directions ----------------------------------------------------------


def test_serializers_satisfy_the_protocol() -> None:
    serializers: list[ContextSerializer] = [JAVA, JACKSON]
    assert len(serializers) == 2
    assert issubclass(ContextSerializationError, SpringBatchError)


@pytest.mark.parametrize(("name", "text", "expected"), JDK_VECTORS, ids=[v[0] for v in JDK_VECTORS])
def test_java_vectors_read_and_write_byte_exact(
    name: str, text: str, expected: dict[str, Any]
) -> None:
    decoded = JAVA.deserialize(text, where=name)
    assert same(decoded, expected)
    # Read then written back: byte for byte (reading keeps the stream's entry order).
    assert JAVA.serialize(decoded) == text
    # Built in any order: Java's HashMap order reproduces what the JDK wrote.
    assert JAVA_ORDER.serialize(expected) == text


def test_a1_reads_with_java_types() -> None:
    values = JAVA.deserialize(FACTS_A1)
    assert list(values) == list(A1_MAP)  # the stream lists entries in Java's bucket order
    for key, value in A1_MAP.items():
        assert same_java_value(values[key], value), key
        assert java_class_of(values[key]) == java_class_of(value)
    assert type(values["startRange"]) is Long and type(values["count"]) is Integer
    assert values[TRANSFER_KEY] == JavaEnum(P, "YES")


def test_bucket_collisions_keep_insertion_order() -> None:
    # NODE_KEY and "count" share bucket 8: Java inserted NODE_KEY first, so must we.
    swapped = {
        k: A1_MAP[k] for k in ("startRange", "flag", "count", NODE_KEY, TRANSFER_KEY, "ratio")
    }
    assert JAVA_ORDER.serialize(swapped) != FACTS_A1
    assert same(JAVA.deserialize(JAVA.serialize(swapped)), A1_MAP)


def test_a3_bytes_java_accepted_are_reproduced_for_the_same_map() -> None:
    assert same(JAVA.deserialize(FACTS_A3), A3_MAP)
    # A.3 lists the entries in insertion order; the default writer keeps that order.
    assert JAVA.serialize(A3_MAP) == FACTS_A3
    # In Java's HashMap order we write what OpenJDK 17 writes for the same map.
    assert JAVA_ORDER.serialize(A3_MAP) == JDK_A3_RESERIALIZED
    # Same objects, only the entry order differs (the prototype kept insertion order).
    assert len(base64.b64decode(FACTS_A3)) == len(base64.b64decode(JDK_A3_RESERIALIZED))


def test_linked_hash_map_reads_as_dict() -> None:
    assert same(JAVA.deserialize(JDK_LINKED), {"z": Long(1), "a": "b"})


def test_missing_base64_padding_is_accepted_like_java() -> None:
    assert JAVA.deserialize(FACTS_EMPTY.rstrip("=")) == {}


@pytest.mark.parametrize(
    ("name", "text", "expected"), JACKSON_VECTORS, ids=[v[0] for v in JACKSON_VECTORS]
)
def test_jackson_vectors_read_and_write_byte_exact(
    name: str, text: str, expected: dict[str, Any]
) -> None:
    decoded = JACKSON.deserialize(text, where=name)
    assert same(decoded, expected)
    assert JACKSON.serialize(decoded) == text
    assert JACKSON_ORDER.serialize(expected) == text


def test_jackson_does_not_trust_the_cluster_enum_by_default() -> None:
    with pytest.raises(ContextSerializationError) as caught:
        Jackson2ContextSerializer().deserialize(FACTS_JACKSON, where=WHERE)
    assert P in str(caught.value) and WHERE in str(caught.value)
    assert caught.value.java_class == P
    assert same(Jackson2ContextSerializer([P]).deserialize(FACTS_JACKSON), FACTS_JACKSON_MAP)


def test_jackson_negative_fractional_duration() -> None:
    # Jackson writes Duration(-1.5 s) as -1.500000000 and reads that back as -0.5 s; we read
    # it as Java does, and write -1.5 s as -2.500000000, which Java reads as -1.5 s.
    assert JACKSON.deserialize(JACKSON_DURATIONQUIRK) == {"d": timedelta(seconds=-0.5)}
    text = JACKSON.serialize({"d": timedelta(seconds=-1.5)})
    assert text == '{"@class":"java.util.HashMap","d":["java.time.Duration",-2.500000000]}'
    assert JACKSON.deserialize(text) == {"d": timedelta(seconds=-1.5)}


# -- every supported type keeps its Java class ---------------------------------------------------

EVERY_TYPE = [
    "text",
    "",
    True,
    False,
    5,
    Long(-(2**63)),
    Integer(2**31 - 1),
    Short(-(2**15)),
    Byte(127),
    BigInteger(-(10**50)),
    0.1,
    Double(-2.5e-300),
    Float(3.4028234663852886e38),
    Decimal("-0.000000123"),
    Decimal("12345678901234567890123456789012345678901234567890E-3"),
    datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, 0, 1),
    date(2024, 2, 29),
    time(23, 59, 59, 999999),
    time(0, 1),
    timedelta(days=-3, microseconds=7),
    Instant(-31557014167219200),
    Instant(31556889864403199, 999999999),
    JavaEnum(P, "NO"),
    [],
    [Long(1), [Integer(2), ["deep"]], {"k": None}],
    {"nested": {"map": [Decimal("1.0")]}},
]


@pytest.mark.parametrize("serializer", [JAVA, JACKSON], ids=["java", "jackson"])
@pytest.mark.parametrize("value", EVERY_TYPE, ids=repr)
def test_every_type_round_trips_with_its_java_class(
    serializer: ContextSerializer, value: Any
) -> None:
    back = serializer.deserialize(serializer.serialize({"v": value}))["v"]
    assert same(back, value)
    assert java_class_of(back) == java_class_of(value)


def test_precision_limits() -> None:
    # java.util.Date keeps milliseconds, as Date.from(Instant) does.
    stamp = datetime(2024, 1, 31, 10, 0, 0, 123456, tzinfo=UTC)
    assert JAVA.deserialize(JAVA.serialize({"d": stamp}))["d"] == stamp.replace(microsecond=123000)
    assert JACKSON.deserialize(JACKSON.serialize({"d": stamp}))["d"] == stamp.replace(
        microsecond=123000
    )
    nanos = '{"@class":"java.util.HashMap","t":["java.time.LocalTime",[10,0,0,123456789]]}'
    assert JACKSON.deserialize(nanos)["t"] == LocalTime(10, 0, 0, 123456789)
    # LocalTime 10:00:00.123456789 as java.time.Ser: type 4, hour, minute, second, int nanos.
    ser = _object("java.time.Ser", -7683839454370182990, 0x0C) + _block(
        bytes((4, 10, 0, 0)) + struct.pack(">i", 123456789)
    )
    assert JAVA.deserialize(_stream(ser + b"\x78"))["x"] == LocalTime(10, 0, 0, 123456789)


# -- property tests ------------------------------------------------------------------------------

UTC_MILLIS = st.datetimes(timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
ENUMS = st.builds(
    JavaEnum, st.sampled_from([P, COLOR]), st.sampled_from(["YES", "NO", "RED", "GREEN"])
)


def scalars(finite: bool) -> st.SearchStrategy[Any]:
    floats = st.floats(allow_nan=not finite, allow_infinity=not finite)
    return st.one_of(
        st.text(max_size=12),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.integers(-(2**63), 2**63 - 1).map(Long),
        st.integers(-(2**31), 2**31 - 1).map(Integer),
        st.integers(-(2**15), 2**15 - 1).map(Short),
        st.integers(-128, 127).map(Byte),
        st.integers(-(10**60), 10**60).map(BigInteger),
        floats,
        floats.map(Double),
        st.floats(width=32, allow_nan=not finite, allow_infinity=not finite).map(Float),
        st.decimals(allow_nan=False, allow_infinity=False),
        UTC_MILLIS,
        st.datetimes(),
        st.dates(),
        st.times(),
        st.timedeltas(),
        st.builds(Instant, st.integers(-(2**50), 2**50), st.integers(0, 999_999_999)),
        ENUMS,
    )


def contexts(finite: bool) -> st.SearchStrategy[dict[str, Any]]:
    values = st.recursive(
        scalars(finite) | st.none(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
    top = values.filter(lambda v: v is not None)
    return st.dictionaries(st.text(max_size=10), top, max_size=8)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contexts(finite=False))
def test_java_round_trip_property(values: dict[str, Any]) -> None:
    text = JAVA.serialize(values)
    assert same(JAVA.deserialize(text), values)
    assert JAVA.serialize(JAVA.deserialize(text)) == text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contexts(finite=True))
def test_jackson_round_trip_property(values: dict[str, Any]) -> None:
    text = JACKSON.serialize(values)
    json.loads(text)  # plain JSON
    assert same(JACKSON.deserialize(text), values)
    assert JACKSON.serialize(JACKSON.deserialize(text)) == text


# -- fuzzing: anything at all gives a dict or a ContextSerializationError ------------------------


def _clean(serializer: ContextSerializer, text: str) -> None:
    try:
        result = serializer.deserialize(text, where=WHERE)
    except ContextSerializationError as exc:
        assert WHERE in str(exc)
    else:
        assert isinstance(result, dict)


SEED_STREAMS = [base64.b64decode(text) for name, text, _ in JDK_VECTORS if name != "longstrings"]
SEED_JSON = [text for _, text, _ in JACKSON_VECTORS]
MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "set", "delete", "insert", "truncate", "duplicate"]),
        st.integers(0, 1 << 16),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=4,
)


def _mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    buffer = bytearray(data)
    for kind, where, byte in mutations:
        at = where % (len(buffer) + 1)
        if kind == "flip" and at < len(buffer):
            buffer[at] ^= 1 << (byte % 8)
        elif kind == "set" and at < len(buffer):
            buffer[at] = byte
        elif kind == "delete":
            del buffer[at : at + 1 + byte % 8]
        elif kind == "insert":
            buffer[at:at] = bytes((byte,)) * (1 + byte % 4)
        elif kind == "truncate":
            del buffer[at:]
        elif kind == "duplicate":
            buffer[at:at] = buffer[at : at + 1 + byte % 16]
    return bytes(buffer)


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(SEED_STREAMS), MUTATIONS)
def test_fuzz_mutated_java_streams(seed: bytes, mutations: list[tuple[str, int, int]]) -> None:
    _clean(JAVA, base64.b64encode(_mutate(seed, mutations)).decode())


@settings(max_examples=800, deadline=None)
@given(st.binary(max_size=200), st.booleans())
def test_fuzz_random_java_bytes(data: bytes, with_header: bool) -> None:
    prefix = b"\xac\xed\x00\x05" if with_header else b""
    _clean(JAVA, base64.b64encode(prefix + data).decode())


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_fuzz_random_text(text: str) -> None:
    _clean(JAVA, text)
    _clean(JACKSON, text)


@settings(max_examples=1200, deadline=None)
@given(st.sampled_from(SEED_JSON), MUTATIONS)
def test_fuzz_mutated_json(seed: str, mutations: list[tuple[str, int, int]]) -> None:
    _clean(JACKSON, _mutate(seed.encode(), mutations).decode("utf-8", "replace"))


# -- hostile input -------------------------------------------------------------------------------

EMPTY_BYTES = base64.b64decode(FACTS_EMPTY)
# The empty-context stream up to the HashMap's block data (handles 0 and 1), with threshold 12
# as Java writes it once a map holds something.
MAP_HEAD = EMPTY_BYTES[:-15] + struct.pack(">i", 12)


def _utf(text: str) -> bytes:
    return struct.pack(">H", len(text.encode())) + text.encode()


def _block(data: bytes) -> bytes:
    return bytes((0x77, len(data))) + data


def _object(
    name: str, suid: int, flags: int, fields: bytes = b"\x00\x00", sup: bytes = b"\x70"
) -> bytes:
    return b"\x73\x72" + _utf(name) + struct.pack(">qB", suid, flags) + fields + b"\x78" + sup


def _stream(value: bytes, size: int = 1) -> str:
    """A HashMap of ``size`` entries whose first is key "x" (handle 2) -> ``value`` (handle 3+)."""
    data = MAP_HEAD + _block(struct.pack(">ii", 16, size)) + b"\x74" + _utf("x") + value + b"\x78"
    return base64.b64encode(data).decode()


def _read_error(text: str) -> ContextSerializationError:
    with pytest.raises(ContextSerializationError) as caught:
        JAVA.deserialize(text, where=WHERE)
    assert WHERE in str(caught.value)
    return caught.value


def test_unknown_class_is_named() -> None:
    error = _read_error(_stream(_object("com.evil.Gadget", 1, 0x02)))
    assert (
        str(error) == f"cannot read the execution context of {WHERE}: unknown class com.evil.Gadget"
    )
    assert error.java_class == "com.evil.Gadget"


def test_unknown_superclass_is_named() -> None:
    long_fields = b"\x00\x01J" + _utf("value")
    gadget = b"\x72" + _utf("com.evil.Gadget") + struct.pack(">qB", 1, 2) + b"\x00\x00\x78\x70"
    error = _read_error(
        _stream(_object("java.lang.Long", 4290774380558885855, 0x02, long_fields, gadget))
    )
    assert "com.evil.Gadget" in str(error)


def test_known_class_with_other_serial_version_is_refused() -> None:
    long_fields = b"\x00\x01J" + _utf("value")
    error = _read_error(_stream(_object("java.lang.Long", 42, 0x02, long_fields)))
    assert "serialVersionUID" in str(error) and error.java_class == "java.lang.Long"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"\x73\x7d\x00\x00\x00\x00", "proxy"),
        (b"\x7b", "exception"),
        (b"\x79", "reset"),
        (b"\x7c" + struct.pack(">q", 1 << 62), "truncated"),
        (b"\x74\xff\xff", "truncated"),
        (b"\x74\x00\x02\xc0\x41", "malformed modified UTF-8"),
        (b"\x71\x00\x7e\x00\x63", "unknown handle"),
        (b"\x71\x00\x7e\x00\x00", "not a value"),
        (
            b"\x75"
            + b"\x72"
            + _utf("[B")
            + struct.pack(">qB", -5984413125824719648, 2)
            + b"\x00\x00\x78\x70",
            "arrays",
        ),
    ],
    ids=[
        "proxy",
        "exception",
        "reset",
        "huge-long-string",
        "huge-string",
        "bad-utf",
        "handle",
        "descriptor",
        "array",
    ],
)
def test_malformed_streams_fail_cleanly(value: bytes, message: str) -> None:
    assert message in str(_read_error(_stream(value)))


def _nested_lists(count: int) -> bytes:
    """``count`` ArrayLists nested in each other (class descriptor handle 3)."""
    desc = b"\x72" + _utf("java.util.ArrayList") + struct.pack(">qB", 8683452581122892189, 3)
    desc += b"\x00\x01I" + _utf("size") + b"\x78\x70"
    value = b""
    for level in range(count):
        inner = level < count - 1
        head = b"\x73" + (desc if level == 0 else b"\x71" + struct.pack(">i", 0x7E0003))
        value += head + struct.pack(">i", int(inner)) + _block(struct.pack(">i", int(inner)))
    return value + b"\x78" * count


def test_nesting_limit_is_the_same_both_ways() -> None:
    deepest: Any = []
    for _ in range(62):
        deepest = [deepest]
    assert JAVA.deserialize(_stream(_nested_lists(63))) == {"x": deepest}
    assert JAVA.serialize({"x": deepest}) == _stream(_nested_lists(63))
    assert "nested deeper" in str(_read_error(_stream(_nested_lists(64))))
    assert "nested deeper" in str(_read_error(_stream(_nested_lists(5000))))
    for serializer in (JAVA, JACKSON):
        with pytest.raises(ContextSerializationError, match="nested deeper"):
            serializer.serialize({"x": [deepest]})


def test_cycles_and_oversized_counts_fail_cleanly() -> None:
    array_list = _object("java.util.ArrayList", 8683452581122892189, 3, b"\x00\x01I" + _utf("size"))
    cyclic = (
        array_list
        + struct.pack(">i", 1)
        + _block(struct.pack(">i", 1))
        + b"\x71\x00\x7e\x00\x04\x78"
    )
    assert "cyclic" in str(_read_error(_stream(cyclic)))
    huge = array_list + struct.pack(">i", 2**31 - 1) + _block(struct.pack(">i", 1)) + b"\x78"
    assert "objects it announces" in str(_read_error(_stream(huge)))
    assert "objects it announces" in str(_read_error(_stream(b"\x74" + _utf("v"), size=2**31 - 1)))


def test_map_keys_must_be_strings() -> None:
    number = b"\x72" + _utf("java.lang.Number") + struct.pack(">qB", -8742448824652078965, 2)
    key = _object(
        "java.lang.Integer",
        1360826667806852920,
        2,
        b"\x00\x01I" + _utf("value"),
        number + b"\x00\x00\x78\x70",
    )
    key += b"\x00\x00\x00\x01"
    data = MAP_HEAD + _block(struct.pack(">ii", 16, 1)) + key + b"\x74" + _utf("v") + b"\x78"
    assert "keys are strings" in str(_read_error(base64.b64encode(data).decode()))


def test_enums_of_any_class_read_and_nulls_read_as_none() -> None:
    enum = b"\x7e\x72" + _utf("com.example.Other") + struct.pack(">qB", 0, 0x12) + b"\x00\x00\x78"
    enum += b"\x72" + _utf("java.lang.Enum") + struct.pack(">qB", 0, 0x12) + b"\x00\x00\x78\x70"
    assert JAVA.deserialize(_stream(enum + b"\x74" + _utf("X"))) == {
        "x": JavaEnum("com.example.Other", "X")
    }
    assert JAVA.deserialize(_stream(b"\x70")) == {"x": None}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "!!!!",
        "rO0AB",
        "é",
        base64.b64encode(b"\xac\xed\x00\x05\x70").decode(),
        base64.b64encode(EMPTY_BYTES + b"\x00").decode(),
    ],
    ids=["empty", "not-base64", "bad-length", "non-ascii", "null", "trailing-bytes"],
)
def test_not_a_context(text: str) -> None:
    _read_error(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"@class":"java.util.HashMap","x":["com.evil.Gadget",{}]}',
            "com.evil.Gadget is not trusted",
        ),
        ('{"@class":"com.evil.Gadget"}', "com.evil.Gadget is not trusted"),
        (
            '{"@class":"java.util.HashMap","x":["java.util.UUID","0"]}',
            "unsupported class java.util.UUID",
        ),
        ('{"@class":"java.util.HashMap","x":{"a":1}}', "without @class"),
        ('{"x":1}', "without @class"),
        ('{"@class":"java.util.HashMap","x":[1,2]}', "without a type"),
        ('{"@class":"java.util.HashMap","x":["java.util.ArrayList",1]}', "form Jackson does not"),
        ('{"@class":"java.util.HashMap","x":NaN}', "not valid JSON"),
        ('{"@class":"java.util.HashMap","x":' + "9" * 1001 + "}", "longer than 1000"),
        ('{"@class":"java.util.HashMap","x":["java.lang.Byte",128]}', "java.lang.Byte"),
        ('{"@class":"java.util.HashMap","x":["java.time.LocalDate",[2024,2,30]]}', "LocalDate"),
        ("[" * 100_000, "not valid JSON"),
        ("[1]", "not an object"),
        (
            '{"@class":"java.util.HashMap","x":'
            + '["java.util.ArrayList",[' * 70
            + "]]" * 70
            + "}",
            "nested deeper",
        ),
    ],
)
def test_jackson_hostile_input(text: str, message: str) -> None:
    with pytest.raises(ContextSerializationError) as caught:
        JACKSON.deserialize(text, where=WHERE)
    assert message in str(caught.value) and WHERE in str(caught.value)


# -- writing errors ------------------------------------------------------------------------------


class _Opaque:
    pass


@pytest.mark.parametrize("serializer", [JAVA, JACKSON], ids=["java", "jackson"])
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"x": (1, 2)}, "tuple"),
        ({"x": {1, 2}}, "set"),
        ({"x": [_Opaque()]}, "_Opaque"),
        ({"x": None}, "None"),
        ({"x": 2**63}, "does not fit a java.lang.Long"),
        ({"x": {1: "a"}}, "keys must be strings"),
        ({"x": time(1, tzinfo=UTC)}, "zone"),
        ({"x": Decimal("NaN")}, "BigDecimal"),
    ],
    ids=["tuple", "set", "object", "none", "overflow", "int-key", "aware-time", "decimal-nan"],
)
def test_unwritable_values(
    serializer: ContextSerializer, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ContextSerializationError, match=message):
        serializer.serialize(values)


def test_self_containing_values_and_jackson_nan_are_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    for serializer in (JAVA, JACKSON):
        with pytest.raises(ContextSerializationError, match="contains itself"):
            serializer.serialize({"x": loop})
    with pytest.raises(ContextSerializationError, match="string"):
        JACKSON.serialize({"x": math.nan})
    with pytest.raises(ContextSerializationError, match="lone surrogate"):
        JACKSON.serialize({"x": "\ud800"})


def test_a_shared_list_is_written_once() -> None:
    shared = [Long(1)]
    values = JAVA.deserialize(JAVA.serialize({"a": shared, "b": shared}))
    assert values["a"] is values["b"] and same(values["a"], shared)


# -- helpers -------------------------------------------------------------------------------------


def test_string_hash_is_javas() -> None:
    assert string_hash("") == 0
    assert string_hash("hello") == 99162322
    assert string_hash("Aa") == string_hash("BB") == 2112
    assert string_hash("\U0001f600") == 31 * 0xD83D + 0xDE00  # over UTF-16 code units
    assert string_hash("z" * 20) == (sum(122 * 31**i for i in range(20)) & 0xFFFFFFFF)


def test_hashmap_capacity_follows_puts() -> None:
    assert (hashmap_layout([]).capacity, hashmap_layout([]).threshold) == (16, 0)
    assert hashmap_layout(CAP12_MAP).capacity == 16
    assert hashmap_layout(CAP13_MAP).capacity == 32
    assert hashmap_layout(list(COLLIDE10_MAP)[:8]).capacity == 16
    assert hashmap_layout(list(COLLIDE10_MAP)[:9]).capacity == 32
    assert hashmap_layout(COLLIDE10_MAP).capacity == 64


@pytest.mark.parametrize(
    ("value", "double_text"),
    [
        (0.5, "0.5"),
        (1e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (1e-3, "0.001"),
        (9e-4, "9.0E-4"),
        (5e-324, "4.9E-324"),
        (-0.0, "-0.0"),
    ],
)
def test_java_double_text(value: float, double_text: str) -> None:
    assert java_double_to_string(value) == double_text


def test_java_float_text() -> None:
    assert java_float_to_string(Float(0.1)) == "0.1"
    assert java_float_to_string(Float(1.4e-45)) == "1.4E-45"
    assert java_float_to_string(Float(16777216.0)) == "1.6777216E7"


# -- nanoseconds and values known only by their text ---------------------------------------------

#: OpenJDK 17's ObjectOutputStream of a HashMap {lt=LocalTime 10:15:30.123456780,
#: ldt=LocalDateTime 2024-01-31T10:15:30.123456789} (compat harness, contexts-write).
JAVA_NANOS = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAAAAx3"
    "CAAAABAAAAACdAACbHRzcgANamF2YS50aW1lLlNlcpVdhLobIkiyDAAAeHB3CAQKDx4HW80MeHQAA2xkdHNxAH4AA3cOBQAA"
    "B+gBHwoPHgdbzRV4eA=="
)
NANOS = {
    "lt": LocalTime(10, 15, 30, 123456780),
    "ldt": LocalDateTime.parse("2024-01-31T10:15:30.123456789"),
}


def test_nanoseconds_round_trip_with_javas_bytes() -> None:
    read = JAVA.deserialize(JAVA_NANOS)
    assert read == NANOS
    assert type(read["lt"]) is LocalTime and type(read["ldt"]) is LocalDateTime
    assert JAVA_ORDER.serialize(NANOS) == JAVA_NANOS


def test_nanoseconds_round_trip_in_jackson() -> None:
    text = JACKSON.serialize(NANOS)
    assert '"lt":["java.time.LocalTime",[10,15,30,123456780]]' in text
    assert '"ldt":["java.time.LocalDateTime",[2024,1,31,10,15,30,123456789]]' in text
    assert JACKSON.deserialize(text) == NANOS


def test_whole_microseconds_still_read_as_python_values() -> None:
    context = {"t": LocalTime(10, 0, 0, 5000), "d": LocalDateTime.of(datetime(2024, 1, 31), 7000)}
    for serializer in (JAVA, JACKSON):
        read = serializer.deserialize(serializer.serialize(context))
        assert type(read["t"]) is time and read["t"] == time(10, 0, 0, 5)
        assert type(read["d"]) is datetime and read["d"] == datetime(2024, 1, 31, 0, 0, 0, 7)


@pytest.mark.parametrize("serializer", [JAVA, JACKSON], ids=["java", "jackson"])
def test_a_value_known_only_by_its_text_is_refused(serializer: ContextSerializer) -> None:
    with pytest.raises(ContextSerializationError, match="known only by its text"):
        serializer.serialize({"x": JavaValue("com.example.Money", "5 EUR")})


#: OpenJDK 17's ObjectOutputStream of a HashMap {big=Duration.ofSeconds(Long.MAX_VALUE, 999999999),
#: d=Duration.ofSeconds(-1, 999)} (compat harness, contexts-write).
JAVA_DURATIONS = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAAAAx3"
    "CAAAABAAAAACdAADYmlnc3IADWphdmEudGltZS5TZXKVXYS6GyJIsgwAAHhwdw0Bf/////////87msn/eHQAAWRzcQB+AAN3"
    "DQH//////////wAAA+d4eA=="
)
DURATIONS = {"big": Duration(2**63 - 1, 999_999_999), "d": Duration(-1, 999)}


def test_durations_beyond_timedelta_round_trip_with_javas_bytes() -> None:
    read = JAVA.deserialize(JAVA_DURATIONS)
    assert read == DURATIONS and all(type(v) is Duration for v in read.values())
    assert JAVA_ORDER.serialize(DURATIONS) == JAVA_DURATIONS
    assert JACKSON.deserialize(JACKSON.serialize(DURATIONS)) == DURATIONS
    # Whole microseconds within range still read as a timedelta.
    back = JAVA.deserialize(JAVA.serialize({"d": Duration(-1, 999_000)}))["d"]
    assert type(back) is timedelta and back == timedelta(seconds=-1, microseconds=999)
