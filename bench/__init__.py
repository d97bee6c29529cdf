"""Performance benchmark of the reconciler on a real local Kafka cluster (issue 5).

Run it with ``python3 -m bench.run [--sizes 1000,10000] [--repeat 3]``; see bench/README.md.

- ``bench.specs``: pure generation of the benchmark topics and their environment directories.
- ``bench.stats``: pure statistics (median, min-max) and the markdown report.
- ``bench.run``: the command: starts a cluster, creates the topics, measures, prints the table.
"""
