"""What runs the sources: entry scripts per vendor (`*_pipeline.py`, the DAG, the demos), the one
sync runner (`runner/`), the vendor registry (`vendors.py`), the warehouse side (`warehouse/`) and
write-back (`writeback/`)."""
