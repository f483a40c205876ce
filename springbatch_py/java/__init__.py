"""What a Python node must do exactly as a JVM does, in one place.

==========================  =====================================================================
:mod:`.types`               Python values that keep their Java class (``Long``, ``Integer``,
                            ``LocalTime`` to the nanosecond, enums, ...) and which class a value
                            stands for
:mod:`.kinds`               the one dispatch over those value kinds that both context writers
                            (Java serialization and Jackson JSON) follow
:mod:`.tostring`            ``toString()`` of job-key values (JDK 19+ ``Double.toString``,
                            ``Date.toString()`` in a zone, ``BigDecimal``, ``java.time``) and
                            the ISO texts Spring stores
:mod:`.parsing`             text read as Spring's conversion service reads it
:mod:`.hashmap`             ``java.util.HashMap``'s iteration order and capacity
:mod:`.stream`,             the Java Object Serialization stream: its constants and the JDK
:mod:`.stream_reader`,      classes allowed in it, an allow-list reader and an exact writer
:mod:`.stream_writer`
==========================  =====================================================================

Nothing here touches a database or knows Spring Batch's tables: the execution-context
serializers (:mod:`springbatch_py.repository.serialization`) and job parameters
(:mod:`springbatch_py.core.parameters`) build on it. The public value types are also importable
from :mod:`springbatch_py.core.javatypes` and the package itself.
"""
