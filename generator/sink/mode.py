"""The three things a run can do with its changes, chosen once from the command line."""

from __future__ import annotations

from enum import Enum


class Sink(Enum):
    WRITE = "write"  # generate, remove, new: write every change atomically, or none
    DIFF = "diff"  # diff, generate --dry-run: print the changes, write nothing
    CHECK = "check"  # check: report drift, write nothing
