"""Rows `verify --repair` found gone from the API keep their place with `deleted_at` set; the
analyst views leave them out. The sync declares the column on every table `verify` checks."""

DELETED_AT = "deleted_at"
