"""Write-back: data from the warehouse (or a file) sent TO Woku, row by row, each row's outcome kept.

Not a source (nothing is extracted), so it lives beside the pipelines. One engine (`engine.py`) sends the
rows and stops when it must; two policies say what a row is and what an answer means: `trackers.py`
(tracker values) and `voicemails.py` (audio reviews, at most once each, through `ledger.py`).
"""
