"""Analyst-facing SQL built on the loaded tables: the last step of config → source → dlt → warehouse."""
