"""The local stack: real Kafka, schema registry, PostgreSQL and Redis, started without Docker or root.

`python -m devstack run` is what `make run` calls; `python -m devstack exec -- CMD` is what `make test`
calls. Everything the stack keeps (downloads, data, logs) lives under `.stack/` in the project root.
"""
