"""Entry point of the cc_crypto plugin: registers its components with cottoncandy.

Imports only cc_core, so that listing plugins never imports this package's heavy dependencies.
"""

from __future__ import annotations

from typing import Any

from cc_core.hookspecs import RegisterSetting, RegisterTransform, hookimpl


@hookimpl
def cc_register_transforms(register: RegisterTransform) -> None:
    register("aes-gcm", "cc_crypto.transform:AesGcmTransform", install="pip install 'cottoncandy[crypto]'",
             description="client-side envelope encryption: AES-256-GCM segments, keys wrapped by your master key")
    register("cottoncandy-0.3", "cc_crypto.legacy03:Legacy03Transform", install="pip install 'cottoncandy[crypto]'",
             description="read-only: decrypts what cottoncandy 0.3's get_encrypted_interface wrote (AES-CBC, RSA)")


@hookimpl
def cc_register_commands(subparsers: Any) -> None:
    from .cli import add_commands

    add_commands(subparsers)


@hookimpl
def cc_register_settings(register: RegisterSetting) -> None:
    register("encryption", "segment_size", "size", minimum=1 << 10, maximum=1 << 30)
    for key in ("master_key", "passphrase", "key_file", "key"):  # key: cottoncandy 0.3's AES key
        register("encryption", key)
    register("encryption", "scrypt_log_n", "int", minimum=10, maximum=30)
    register("encryption", "generate_key", "bool")
    register("encryption", "scrypt_max_factor", "float", minimum=1)
    register("encryption", "bind_names", "bool")  # FORMAT.md, "Name binding"
    register("encryption", "method", "choice", choices=("AES", "RSA", "False"))  # cottoncandy 0.3's
