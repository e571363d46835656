"""Vendor-neutral record shaping: UTC timestamps, and the `account` column every table carries."""
