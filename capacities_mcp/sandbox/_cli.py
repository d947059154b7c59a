"""Placeholder: this command is being built (see the open issues)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    print("capacities-mcp: this command is not built yet", file=sys.stderr)
    return 2
