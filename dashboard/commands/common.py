"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
from datetime import date

from dashboard.config import Config, load_config, parse_as_of
from dashboard.runtime import Runtime


def as_of_arg(args: argparse.Namespace) -> date | None:
    return parse_as_of(getattr(args, "as_of", None), key="--as-of")


def open_runtime(args: argparse.Namespace) -> tuple[Config, Runtime]:
    config = load_config(getattr(args, "config", None))
    return config, Runtime(config, as_of=as_of_arg(args))
