"""ABR algorithms and bandwidth estimators: pure decision logic, no I/O, no clock."""

from abr.base import (
    AbrAlgorithm,
    AbrContext,
    AbrError,
    Decision,
    Param,
    Progress,
    TransferSample,
    highest_rung_below,
)
from abr.registry import available, create, parse_spec, split_specs

__all__ = [
    "AbrAlgorithm",
    "AbrContext",
    "AbrError",
    "Decision",
    "Param",
    "Progress",
    "TransferSample",
    "available",
    "create",
    "highest_rung_below",
    "parse_spec",
    "split_specs",
]
