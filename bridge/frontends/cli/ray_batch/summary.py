"""What a batch on Ray did: files done, skipped and failed (with why), results written, and
how fast, so a user sees at the end which files need another look."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BatchSummary:
    """Counts of a batch run; filled in as results arrive."""

    tool: str
    files: int  # in the batch, finished or not
    skipped: int = 0  # finished by an earlier run: results already in the output folder
    done: int = 0
    results: int = 0  # MIDI files written
    failures: list[tuple[str, str]] = field(default_factory=list)  # file, reason
    warnings: list[tuple[str, str]] = field(default_factory=list)  # file, warning
    nodes: set[str] = field(default_factory=set)  # Ray node ids that ran files
    actors: int = 0
    seconds: float = 0.0  # the pipeline's wall time, actors' start included

    def fail(self, name: str, reason: str) -> None:
        self.failures.append((name, reason))

    def lines(self) -> list[str]:
        """The summary as printed: counts, then throughput, then each warning and failure."""
        failed = len(self.failures)
        lines = [
            f"{self.tool} on Ray: {self.files} files: {self.done} done, {self.skipped} skipped "
            f"(finished before), {failed} failed; {self.results} results written"
        ]
        ran = self.done + failed
        if ran:
            rate = self.done / self.seconds if self.seconds > 0 else 0.0
            lines.append(
                f"{ran} files in {self.seconds:.1f} s ({rate:.2f} files/s) on {self.actors} "
                f"actor(s) across {len(self.nodes)} node(s)"
            )
        lines += [f"warning: {name}: {warning}" for name, warning in self.warnings]
        lines += [f"failed: {name}: {reason}" for name, reason in self.failures]
        return lines
