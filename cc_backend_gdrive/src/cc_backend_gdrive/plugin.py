"""Entry point of the cc_backend_gdrive plugin: registers its components with cottoncandy.

Imports only cc_core, so that listing plugins never imports this package's heavy dependencies.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from cc_core.hookspecs import RegisterBackend, RegisterSetting, hookimpl


@hookimpl
def cc_register_backends(register: RegisterBackend) -> None:
    register("gdrive", "cc_backend_gdrive.backend:GDriveBackend", schemes=("gdrive",),
             install="pip install 'cottoncandy[gdrive]'",
             description="Google Drive folders (pydrive2); metadata in file properties")


@hookimpl
def cc_register_settings(register: RegisterSetting) -> None:
    for key in ("chunk_size", "resumable_threshold", "download_chunk_size"):
        register("gdrive", key, "size", minimum=1)
    register("gdrive", "trash", "bool")
    register("gdrive", "retries", "int", minimum=0, maximum=100)
    register("gdrive", "retry_delay", "float", minimum=0)
    register("gdrive", "retry_max_delay", "float", minimum=0)
    register("gdrive", "retry_jitter", "choice", choices=("full", "equal", "none"))
    register("gdrive", "timeout", "float", minimum=0)


@hookimpl
def cc_register_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gdrive-auth",
        help="sign in to Google Drive (in a browser, here or on another machine) and save the credentials",
    )
    parser.add_argument("--secrets", help="OAuth client secrets JSON (default: [gdrive] secrets)")
    parser.add_argument("--credentials", help="where to save the credentials (default: [gdrive] credentials)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--console", action="store_true", default=None,
                      help="no browser here: print an address to open elsewhere, then paste back where it landed "
                           "(the default when no browser can be opened)")
    mode.add_argument("--browser", dest="console", action="store_false", help="open a browser on this machine")
    parser.set_defaults(handler=command_gdrive_auth)


def command_gdrive_auth(arguments: argparse.Namespace) -> int:
    """Sign in (or refresh a saved sign-in) and report where the credentials are."""
    from cc_core.config import load_config
    from cc_core.errors import ConfigError

    from .auth import AuthFiles, authenticate

    files = AuthFiles.from_settings(load_config(), arguments.secrets, arguments.credentials)
    files = dataclasses.replace(files, service_account_key=None)  # this signs in a person
    try:
        authenticate(files, interactive=True, console=arguments.console)
    except ConfigError as error:
        print(f"error: {error}")
        return 1
    print(f"Google Drive credentials saved in {files.credentials}")
    return 0
