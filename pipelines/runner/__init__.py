"""The sync runner every vendor shares: options, accounts, refresh, views, summary, exit codes.

A vendor adds one `Vendor` row to `pipelines/vendors.py`; its entry script calls `main(vendor)`.
"""

from pipelines.runner.main import main
from pipelines.runner.sync import run_sync
from pipelines.runner.vendor import Command, Vendor

__all__ = ["Command", "Vendor", "main", "run_sync"]
