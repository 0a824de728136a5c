"""The ``walker-channels`` command: one parser, each command built through the app package.

The core's commands live in this package. Other packages of the distribution add theirs through
the ``walker_channels.cli`` entry-point group (the FastAPI adapter adds ``demo`` and
``simulate``), so the core never imports an adapter. Each command imports its optional
dependencies only when it runs: ``--help`` works with only the core installed, and a command
whose extra is missing says which one to install.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from walker_channels.exceptions import MissingDependency

COMMAND_MODULES: tuple[str, ...] = (
    "walker_channels.cli.db",
    "walker_channels.cli.briefs",
    "walker_channels.cli.worker",
    "walker_channels.cli.erase",
    "walker_channels.cli.retention",
    "walker_channels.cli.tenants",
    "walker_channels.cli.twilio",
    "walker_channels.cli.telegram",
)
"""The core's command modules, each with ``register(subparsers)``."""
ENTRY_POINT_GROUP = "walker_channels.cli"
"""Where other packages register ``register(subparsers)`` functions, one per command."""
DISTRIBUTION = "walker-channels"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = argparse.ArgumentParser(
        prog="walker-channels", description="Connect AI agents to WhatsApp, SMS and email."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subcommands = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subcommands)
    for entry in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        _register_entry_point(subcommands, entry)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


def _register_entry_point(subcommands: Any, entry: metadata.EntryPoint) -> None:
    try:
        register = entry.load()
    except ModuleNotFoundError:
        extra = entry.extras[0] if entry.extras else "all"
        _register_missing(subcommands, entry.name, extra)
        return
    register(subcommands)


def _register_missing(subcommands: Any, name: str, extra: str) -> None:
    """A command whose package is installed but whose extra is not: it says what to install."""
    error = MissingDependency(f"walker-channels {name}", extra)
    command = subcommands.add_parser(name, help=f"(needs the {extra} extra)")
    command.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def handler(_: argparse.Namespace) -> int:
        print(f"walker-channels {name}: {error}", file=sys.stderr)
        return 2

    command.set_defaults(handler=handler)


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
