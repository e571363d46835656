"""Wootric-specific helpers: credentials, auth grants, client, cursor walk, timestamps."""
