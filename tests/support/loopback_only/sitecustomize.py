"""Imported by Python at start-up in every CLI subprocess a test runs (PYTHONPATH): loopback only."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
from tests.support import netguard  # noqa: E402

netguard.install()
