"""Runnable pipelines: each script wires configuration to `dlt.pipeline(...).run(...)`."""
