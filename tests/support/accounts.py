"""Several accounts of one vendor as environment variables, as a scheduler would pass them."""

from typing import Any, Callable, Dict


def accounts_env(vendor: str, servers: Dict[str, Any], credentials: Callable[[Any], Dict[str, str]]) -> Dict[str, str]:
    """`sources.<vendor>.accounts` and, per account, its sandbox's URL and `credentials(server)`."""
    env = {f"SOURCES__{vendor.upper()}__ACCOUNTS": ",".join(servers)}
    for name, server in servers.items():
        prefix = f"SOURCES__{vendor.upper()}__{name.upper()}__"
        env[prefix + "BASE_URL"] = server.url
        env.update({f"{prefix}CREDENTIALS__{key}": value for key, value in credentials(server).items()})
    return env
