"""Built-in plugins of 专班看板, installed as the package `dashboard_plugins`.

Each module is registered through the `dashboard.plugins` entry point group in
pyproject.toml, exactly like a third-party plugin: copy one to start your own.
"""
