"""The demo: a partitioned job on a cluster of worker processes (``springbatch-py demo``)."""
