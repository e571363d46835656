"""Write-back: rows from the warehouse (or a file) sent TO Woku one at a time, each row's outcome kept:
tracker values (`trackers.py`) and voicemails, each at most once (`voicemails.py`)."""
