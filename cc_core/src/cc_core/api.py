"""The functions ``import cottoncandy as cc`` offers: cottoncandy 0.4's entry points."""

from __future__ import annotations

from typing import Any

from .config import Config, load_config
from .interface import CCInterface, same_parameter


def _setting(settings: Config, section: str, key: str) -> str | None:
    value = settings.get(section, key, fallback="") or ""
    return None if value.strip() in ("", "False", "auto") else value.strip()


def get_interface(
    bucket_name: str | None = None,
    ACCESS_KEY: str | None = None,
    SECRET_KEY: str | None = None,
    endpoint_url: str | None = None,
    force_bucket_creation: bool | None = None,
    verbose: bool = True,
    backend: str | None = None,
    *,
    url: str | None = None,
    **kwargs: Any,
) -> CCInterface:
    """Get an interface to a bucket on a backend.

    Parameters
    ----------
    bucket_name : str, optional
        Bucket (S3), root folder (local), or a URL (``s3://bucket``, ``file:///data/store``).
        Default: ``[basic] default_bucket``.
    ACCESS_KEY, SECRET_KEY : str, optional
        Credentials; default ``[login]`` in the config file, then the backend's own chain
        (environment variables, AWS profiles).
    endpoint_url : str, optional
        Default: the backend's own setting (``[login] endpoint_url`` for S3). ``url=`` (the
        interface's name for it) works too.
    force_bucket_creation : bool, optional
        Create the bucket if it does not exist; default ``[basic] force_bucket_creation``.
    verbose : bool
        Print progress of long operations.
    backend : str, optional
        Any registered backend: ``'s3'``, ``'gdrive'``, ``'local'``, ``'memory'``, or a third-party
        plugin's. Default: ``'local'`` for a filesystem path, else ``[basic] default_backend``.
    **kwargs
        Passed to the backend, e.g. ``config=botocore.client.Config(...)``; and ``settings=`` (a
        :class:`cc_core.config.Config`) or ``transforms=`` (a chain added to every upload).

    Returns
    -------
    CCInterface
    """
    endpoint_url = same_parameter("get_interface", "endpoint_url", endpoint_url, "url", url)
    ACCESS_KEY = same_parameter("get_interface", "ACCESS_KEY", ACCESS_KEY, "access_key", kwargs.pop("access_key", None))
    SECRET_KEY = same_parameter("get_interface", "SECRET_KEY", SECRET_KEY, "secret_key", kwargs.pop("secret_key", None))
    settings = kwargs.pop("settings", None) or load_config()
    if force_bucket_creation is None:
        force_bucket_creation = settings.getboolean("basic", "force_bucket_creation")
    return CCInterface(
        bucket_name or _setting(settings, "basic", "default_bucket"),
        ACCESS_KEY or _setting(settings, "login", "access_key"),
        SECRET_KEY or _setting(settings, "login", "secret_key"),
        endpoint_url,  # the S3 backend reads [login] endpoint_url itself; a Drive backend must not get it
        force_bucket_creation,
        verbose,
        backend,
        settings=settings,
        **kwargs,
    )


#: cottoncandy 0.3's values of ``encryption=``: its objects are read with ``encryptionKey=``, new
#: objects are written with the current cipher.
_03_METHODS = ("AES", "RSA")
_CURRENT_CIPHER = "aes-gcm"


def get_encrypted_interface(
    bucket_name: str | None = None,
    ACCESS_KEY: str | None = None,
    SECRET_KEY: str | None = None,
    endpoint_url: str | None = None,
    force_bucket_creation: bool | None = None,
    verbose: bool = True,
    backend: str | None = None,
    encryption: str = _CURRENT_CIPHER,
    key: Any = None,
    encryptionKey: Any = None,
    **kwargs: Any,
) -> CCInterface:
    """An interface that encrypts every object before it leaves the machine.

    Same arguments as :func:`get_interface`, plus ``encryption``: the name of an encryption
    transform (``'aes-gcm'`` from ``pip install 'cottoncandy[crypto]'``), appended to every
    object's transform chain after any compression; and ``key``: a master key handed to that
    transform (for ``aes-gcm``: 32 bytes, the text of a key file, or a ``cc_crypto`` key object),
    preferred over the configured one. A passed key is not pickled with the interface: workers
    that unpickle it use the key from their own config, environment or key file.

    cottoncandy 0.3's arguments keep their meaning for reading: ``encryption='AES'`` with
    ``encryptionKey=`` 0.3's AES key (default: ``[encryption] key`` of 0.3's ``options.cfg``), or
    ``encryption='RSA'`` with ``encryptionKey=`` the path of 0.3's RSA private key file, read the
    objects 0.3 encrypted (with a warning: 0.3's format is unauthenticated). New objects are always
    written with ``aes-gcm`` and the master key, never in 0.3's format. A 0.3 key that cannot be
    used is an error here, not at the first download.
    """
    method = encryption.strip().upper() if isinstance(encryption, str) else encryption
    if method in _03_METHODS:
        encryption = _CURRENT_CIPHER
    else:
        method = None
        if encryptionKey not in (None, False):
            raise TypeError(
                "encryptionKey= is cottoncandy 0.3's argument: pass it with encryption='AES' (0.3's AES "
                "key) or encryption='RSA' (the path of 0.3's RSA key file) to read 0.3's objects. The key "
                "of the current format is key= (see 'cottoncandy key --help')"
            )
    transforms = [*kwargs.pop("transforms", ()), encryption]
    interface = get_interface(bucket_name, ACCESS_KEY, SECRET_KEY, endpoint_url, force_bucket_creation,
                              verbose, backend, transforms=transforms, **kwargs)
    if key is not None:
        interface.pipeline.configure_transform(encryption, key=key)
    cipher = interface.plugins.registry.resolve("transform", encryption)  # a missing plugin fails now
    prepare = getattr(cipher, "prepare_interface", None)  # e.g. aes-gcm: also read 0.3's objects
    if prepare is not None:
        prepare(interface, legacy_method=method, legacy_key=encryptionKey)
    return interface


def get_browser(
    bucket_name: str | None = None,
    ACCESS_KEY: str | None = None,
    SECRET_KEY: str | None = None,
    endpoint_url: str | None = None,
    backend: str | None = None,
    path: str = "",
    **kwargs: Any,
) -> Any:
    """An object that tab-completes through a bucket like a filesystem (cottoncandy 0.4's browser).

    Same arguments as :func:`get_interface` (the interface is quiet and never creates the bucket),
    plus ``path``, the folder to start from.

    Returns
    -------
    cc_core.browser.Browser
    """
    interface = get_interface(bucket_name, ACCESS_KEY, SECRET_KEY, endpoint_url, force_bucket_creation=False,
                              verbose=False, backend=backend, **kwargs)
    return interface.get_browser(path)
