"""The package logger: level from DGKINETIC_LOG_LEVEL, console output on rank 0 only."""
from __future__ import annotations

import logging
import os

from mpi4py import MPI

__all__ = ["logger"]

logger = logging.getLogger("dgkinetic")
if not logger.handlers:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("dgkinetic: %(message)s"))
    if MPI.COMM_WORLD.rank != 0:
        handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.setLevel(os.environ.get("DGKINETIC_LOG_LEVEL", "INFO").upper())
    logger.propagate = False
