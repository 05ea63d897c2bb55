"""What goes wrong when an IMDF archive is read or checked: every problem, located."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImdfProblem:
    """One problem: the file, the feature (when there is one) and what is wrong."""

    file: str
    feature_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.feature_id is None else f"{self.file}: feature {self.feature_id}"
        return f"{where}: {self.message}"


class ImdfError(ValueError):
    """The archive was refused; ``problems`` lists why. Nothing was stored."""

    def __init__(self, problems: list[ImdfProblem]) -> None:
        self.problems = problems
        shown = "\n".join(f"- {p}" for p in problems[:20])
        more = f"\n- ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"invalid IMDF archive ({len(problems)} problem(s)):\n{shown}{more}")


class UnknownVenue(LookupError):
    """No venue is stored under this id."""
