"""The one accessor: the Emulator a request is served by.

`create_app` installs its Emulator on the Flask app with `install(app, emulator)`; everything that
serves a request and cannot be handed its parts when it is built asks `current_emulator()`. This is
the only module that reads `app.extensions` for the emulator (tests/test_architecture.py checks it),
so a newcomer finds in one place how a view reaches the emulator, and blueprints that are built with
their parts (`blueprint(finance)`, ...) need neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:  # the views serve the Emulator create_app composed; they never import the root
    from .core import Emulator

EXTENSION_KEY = "operate"  # app.extensions["operate"]: scripts and benchmarks reach the emulator by it


def install(app: Flask, emulator: Emulator) -> None:
    """Make `emulator` the one `current_emulator()` answers for requests to `app`."""
    app.extensions[EXTENSION_KEY] = emulator


def emulator_of(app: Flask) -> Emulator:
    """The Emulator `app` was built over (for code holding the app outside a request)."""
    return app.extensions[EXTENSION_KEY]


def current_emulator() -> Emulator:
    """The Emulator serving the current request."""
    return emulator_of(current_app)  # type: ignore[arg-type]  # the proxy stands for the app
