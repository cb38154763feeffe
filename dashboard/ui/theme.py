"""Two high-contrast themes that read from across the room."""

from __future__ import annotations

from textual.theme import Theme

# The table cursor's background (read by VirtualTable; other themes fall back to the
# CSS `$primary 40%`): dark enough under the dark theme, light enough under the light
# one, that every status colour on it stays readable (red on it is ~3.6:1, not ~2.5:1).
CURSOR_VARIABLE = "vtable-cursor"

DARK = Theme(
    name="zhuanban-dark",
    primary="#4FC3F7",
    secondary="#81D4FA",
    accent="#FFD54F",
    foreground="#F5F5F5",
    background="#0B0F14",
    surface="#141A21",
    panel="#1E2630",
    success="#66E07A",
    warning="#FFD23F",
    error="#FF5C5C",
    dark=True,
    variables={CURSOR_VARIABLE: "#1C3D63"},
)

LIGHT = Theme(
    name="zhuanban-light",
    primary="#0B57D0",
    secondary="#1565C0",
    accent="#8A4B00",
    foreground="#111111",
    background="#FFFFFF",
    surface="#F3F4F6",
    panel="#E5E7EB",
    success="#0A7A2F",
    warning="#8A5A00",
    error="#C62828",
    dark=False,
    variables={CURSOR_VARIABLE: "#B8D4FA"},
)

THEMES = (DARK, LIGHT)
# Config values that mean "our theme": `dark` / `light` are shorthands.
ALIASES = {"dark": DARK.name, "light": LIGHT.name}
