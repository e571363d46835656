"""The sync runner every vendor shares; a vendor adds one `Vendor` row to `pipelines/vendors.py`."""

from pipelines.runner.main import main
from pipelines.runner.vendor import Command, Vendor

__all__ = ["Command", "Vendor", "main"]
