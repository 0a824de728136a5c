"""The ``walker-channels`` command. Each area registers its subcommands from its own module."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

# Modules with ``register(subparsers)``; each imports its optional dependencies lazily.
COMMAND_MODULES: tuple[str, ...] = (
    "walker_channels.sql.commands",
    "walker_channels.email.commands",
    "walker_channels.demo.commands",
    "walker_channels.web.commands",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every area's subcommands."""
    parser = argparse.ArgumentParser(
        prog="walker-channels", description="Connect AI agents to WhatsApp, SMS and email."
    )
    subcommands = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status
