"""A small misbehaving API, beside the vendor sandboxes, for tests of the connector's defences."""

from sandbox.hostile.server import Answer, HostileRequest, HostileServer, json_answer

__all__ = ["Answer", "HostileRequest", "HostileServer", "json_answer"]
