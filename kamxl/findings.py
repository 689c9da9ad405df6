"""What reading and checking a workbook found: shared by the reader, the health check and
the roll-up's data-quality sheet."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One thing a KAM should look at, located as Excel shows it (sheet title, ``B7``)."""

    severity: Severity
    sheet: str
    cell: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PlanReadError(Exception):
    """A file that cannot be read as a kamxl plan at all. ``reason`` is for people."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


class NotAWorkbook(PlanReadError):
    """Not a spreadsheet file, or a corrupt one."""


class NotAPlan(PlanReadError):
    """A workbook, but not one made by kamxl."""


class EncryptedWorkbook(PlanReadError):
    """Password-protected: kamxl cannot open it."""
