"""Kiosk rotation for the office screen: which view comes next, and when.
No Textual here, so the timing rules are tested without a clock."""

from __future__ import annotations

from dataclasses import dataclass

ROTATION = ("overview", "units", "behind", "alerts")
QUIET_SECONDS = 60.0  # a key pauses the rotation until this long without keys


@dataclass(slots=True)
class KioskRotation:
    """`tick(now)` on every timer beat returns the next mode, or None while paused."""

    modes: tuple[str, ...] = ROTATION
    quiet: float = QUIET_SECONDS
    index: int = 0
    paused_until: float = 0.0

    def pause(self, now: float) -> None:
        """A key was pressed: stop rotating until a quiet minute has passed."""
        self.paused_until = now + self.quiet

    def paused(self, now: float) -> bool:
        return now < self.paused_until

    def tick(self, now: float) -> str | None:
        if self.paused(now):
            return None
        self.index = (self.index + 1) % len(self.modes)
        return self.modes[self.index]

    def follow(self, mode: str) -> None:
        """The user switched to `mode` by hand: continue the rotation from there."""
        if mode in self.modes:
            self.index = self.modes.index(mode)
