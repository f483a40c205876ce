"""springbatch-py: Spring Batch's JDBC job repository and database-coordinated cluster
partitioning, in Python, sharing one database with Java nodes."""

__version__ = "0.1.0"
