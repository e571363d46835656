"""Imported by Python at start-up in every CLI subprocess a test runs (PYTHONPATH): loopback only, and
Ctrl-C taken as in a terminal."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
from tests.support import netguard  # noqa: E402

netguard.install()

# A test run started in the background of a non-interactive shell (a CI script, `nohup`, an agent's tool)
# ignores SIGINT, every child inherits that, and Python then installs no KeyboardInterrupt handler: the
# CLI would ignore the interrupt a test sends, where a user's Ctrl-C in a terminal reaches it.
signal.signal(signal.SIGINT, signal.default_int_handler)
