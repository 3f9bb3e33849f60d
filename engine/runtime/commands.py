"""The server-side commands of `seqengine`: serve, worker, db, accounts, users, tokens, demo."""

import argparse
from collections.abc import Callable
from typing import Any


def register(
    commands: Any, add_calendar_options: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add the server-side subcommands to the `seqengine` parser."""
    return None
