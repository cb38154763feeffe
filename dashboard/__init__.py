"""专班看板: a plugin-based terminal dashboard for key livelihood projects (重点民生实事)."""

from dashboard.hookspecs import hookimpl

__all__ = ["__version__", "hookimpl"]
__version__ = "0.1.0"
