"""Who can reach the lab: loopback by default; any other address is an explicit choice that warns, and the
arena then asks for a password.

The web lab and the arena show the corpus and run models on this machine for whoever connects, so
listening beyond loopback is opt-in (`--host`). Streamlit has no login of its own; Gradio does (`auth`).
"""

import ipaddress
import os

LOOPBACK = "127.0.0.1"
ARENA_USER = "raglab"
ARENA_PASSWORD_ENV = "RAGLAB_ARENA_PASSWORD"


class ExposureRefused(ValueError):
    pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int, service: str) -> str | None:
    """The warning to print before listening on `host`, or None on loopback."""
    if is_loopback(host):
        return None
    return (
        f"warning: the {service} will listen on {host}:{port}, so every machine that can reach this one can read "
        "your knowledge bases and run models here. Use the default 127.0.0.1 (with an SSH tunnel for a remote "
        "browser) unless the network is yours."
    )


def arena_auth(host: str) -> tuple[str, str] | None:
    """The arena's login: required off loopback, and used on loopback too whenever the password is set."""
    password = os.environ.get(ARENA_PASSWORD_ENV, "")
    if password:
        return ARENA_USER, password
    if is_loopback(host):
        return None
    raise ExposureRefused(
        f"refusing to serve the arena on {host} without a password: set {ARENA_PASSWORD_ENV} (the login is user "
        f"'{ARENA_USER}' with that password), or leave --host at 127.0.0.1."
    )
