"""Authentication and the Drive API client, as cottoncandy 0.4 did it, on pydrive2.

Two ways to sign in:

- **Your Google account (OAuth).** ``client_secrets.json`` (the JSON of an OAuth client ID of type
  "Desktop app", downloaded from the Google Cloud console of a project with the Drive API enabled)
  and a saved credentials file, both in cottoncandy's config directory under the names in the
  ``[gdrive]`` section (``secrets``, ``credentials``). The first sign-in opens a browser
  (``cottoncandy gdrive-auth``; on a machine without one, such as a cluster login node, it prints an
  address to open on any other machine and reads back where the browser landed); later runs, in any
  process, reuse and refresh the saved credentials.
- **A service account** for unattended jobs: ``[gdrive] service_account_key`` names its JSON key.
  The service account sees its own Drive and the folders shared with it.

Relative file names are looked up in the config directory. ``get_interface(ACCESS_KEY=...,
SECRET_KEY=...)`` may pass the secrets and credentials paths, as in 0.4.
"""

from __future__ import annotations

import os
import sys
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cc_core.config import config_dir, warn_if_exposed
from cc_core.errors import ConfigError

SCOPES = ["https://www.googleapis.com/auth/drive"]
#: Where Google sends the browser after a console sign-in. Nothing listens there: the browser shows
#: an error page whose address holds the code, which the user pastes back (Google retired the
#: copy-the-code "out of band" flow; a Desktop-app client accepts any loopback address).
CONSOLE_REDIRECT = "http://localhost:1/"
_TESTING_MODE_EXPIRY = (
    "Google revokes the sign-in of an OAuth app in 'Testing' publishing status after 7 days: sign in "
    "again with cottoncandy gdrive-auth, or set the app to 'In production' on the OAuth consent screen "
    "of its Cloud project (an app for your own account needs no verification for that)"
)
#: Where a Drive-compatible server (the tests' loopback fake) serves its discovery document.
DISCOVERY_PATH = "/discovery/v1/apis/{api}/{apiVersion}/rest"
_SETUP = (
    "Create an OAuth client ID of type 'Desktop app' in the Google Cloud console (APIs & Services > "
    "Credentials) of a project with the Google Drive API enabled, download its JSON and save it as "
    "{secrets} (or name another file in [gdrive] secrets of {config}). For unattended jobs set "
    "[gdrive] service_account_key to a service account's JSON key file instead."
)


@dataclass(frozen=True)
class AuthFiles:
    """The files authentication reads and writes."""

    secrets: Path
    credentials: Path
    service_account_key: Path | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        secrets_file: str | None = None,
        credentials_file: str | None = None,
        service_account_key: str | None = None,
    ) -> AuthFiles:
        """Paths from explicit arguments, else the ``[gdrive]`` config section.

        Relative paths are taken relative to the config directory.
        """

        def setting(key: str, fallback: str) -> str:
            value = settings.get("gdrive", key, fallback=fallback) if settings is not None else fallback
            return (value or "").strip()

        def path(value: str) -> Path:
            candidate = Path(value).expanduser()
            return candidate if candidate.is_absolute() else config_dir() / candidate

        key = service_account_key or setting("service_account_key", "")
        return cls(
            secrets=path(secrets_file or setting("secrets", "client_secrets.json")),
            credentials=path(credentials_file or setting("credentials", "credentials.txt")),
            service_account_key=path(key) if key else None,
        )


def _config_file() -> Path:
    return config_dir() / "options.cfg"


def browser_available() -> bool:
    """Whether a web browser can be opened here (not on a login node or over plain ssh)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def authenticate(
    files: AuthFiles,
    *,
    timeout: float | None = None,
    interactive: bool | None = None,
    console: bool | None = None,
) -> Any:
    """A signed-in :class:`pydrive2.auth.GoogleAuth`.

    Parameters
    ----------
    files : AuthFiles
        Secrets, saved credentials and service account key.
    timeout : float, optional
        Seconds before an HTTP request times out.
    interactive : bool, optional
        Whether a sign-in may be started when no credentials are saved; default: when standard
        input is a terminal.
    console : bool, optional
        Sign in without a browser on this machine: print the address to open elsewhere and read
        back the address the browser ended on. Default: when no browser can be opened here.

    Raises
    ------
    ConfigError
        A file is missing or invalid, or no credentials can be obtained without a terminal; the
        message says which file to put where.
    """
    from pydrive2.auth import GoogleAuth

    if files.service_account_key is not None:
        return _service_account(files.service_account_key, timeout)
    auth = GoogleAuth(
        settings={
            "client_config_backend": "file",
            "client_config_file": str(files.secrets),
            "save_credentials": False,
            "oauth_scope": SCOPES,
            "get_refresh_token": True,
        },
        http_timeout=timeout,
    )
    if files.credentials.is_file() and files.credentials.stat().st_size:  # empty: never saved
        warn_if_exposed(files.credentials)
        try:
            auth.LoadCredentialsFile(str(files.credentials))
            problem = "not saved credentials" if auth.credentials is None else ""
        except Exception as error:
            problem = str(error)
        if problem:
            raise ConfigError(
                f"The saved Google Drive credentials {files.credentials} cannot be read ({problem}); "
                "delete the file and sign in again: cottoncandy gdrive-auth"
            )
    if auth.credentials is None:
        load_client_secrets(auth, files.secrets)
        if interactive is None:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        if not interactive:
            raise ConfigError(
                f"No saved Google Drive credentials at {files.credentials}. Sign in once in a "
                "terminal with: cottoncandy gdrive-auth (in a browser here or on any other machine; it "
                "saves them there), "
                "or set [gdrive] service_account_key for unattended jobs"
            )
        if console if console is not None else not browser_available():
            console_sign_in(auth)
        else:
            auth.LocalWebserverAuth()
        save_credentials(auth, files.credentials)
    elif auth.access_token_expired:
        refresh(auth, files.credentials)
    return auth


def console_sign_in(auth: Any, *, ask: Callable[[str], str] = input, say: Callable[[str], None] = print) -> None:
    """Sign in with a browser on any machine: print the address, read back where the browser landed.

    Raises
    ------
    ConfigError
        The user refused access, pasted nothing usable, or Google refused the code.
    """
    from pydrive2.auth import AuthenticationError

    auth.GetFlow()
    auth.flow.redirect_uri = CONSOLE_REDIRECT
    say("Open this address in a browser on any machine and allow access to Google Drive:\n\n"
        f"    {auth.GetAuthUrl()}\n\n"
        f"The browser then tries to load {CONSOLE_REDIRECT}... and shows an error: that is expected. "
        "Copy the whole address from its address bar and paste it here.")
    code = authorization_code(ask("Address (or just the code): "))
    try:
        auth.Authenticate(code)
    except AuthenticationError as error:
        raise ConfigError(
            f"Google refused the sign-in code ({error}); codes work once and for a few minutes: "
            "run cottoncandy gdrive-auth again"
        ) from None


def authorization_code(answer: str) -> str:
    """The code in what the user pasted: the redirect address (``...?code=...``) or the bare code."""
    answer = answer.strip()
    query = parse_qs(urlsplit(answer).query) if "://" in answer or answer.startswith("/?") else {}
    if "error" in query:
        raise ConfigError(f"The browser reported {query['error'][0]!r}: access was not granted; run "
                          "cottoncandy gdrive-auth again and allow access")
    code = query["code"][0] if "code" in query else ("" if "://" in answer else answer)
    if not code:
        raise ConfigError("No sign-in code in what was pasted: paste the whole address the browser ended on "
                          f"(it starts with {CONSOLE_REDIRECT}?...code=)")
    return code


def load_client_secrets(auth: Any, secrets: Path) -> None:
    """Read the OAuth client secrets, with an error that says where to put them."""
    from pydrive2.settings import InvalidConfigError

    if not secrets.is_file():
        raise ConfigError(
            f"Google Drive client secrets not found at {secrets}. "
            + _SETUP.format(secrets=secrets, config=_config_file())
        )
    try:
        auth.LoadClientConfigFile(str(secrets))
    except (InvalidConfigError, ValueError, OSError) as error:
        raise ConfigError(
            f"{secrets} is not a valid OAuth client secrets file ({error}). "
            + _SETUP.format(secrets=secrets, config=_config_file())
        ) from None


def refresh(auth: Any, credentials: Path) -> None:
    """Refresh an expired access token and save it."""
    from pydrive2.auth import RefreshError

    try:
        auth.Refresh()
    except RefreshError as error:
        advice = _TESTING_MODE_EXPIRY if "invalid_grant" in str(error) else "sign in again: cottoncandy gdrive-auth"
        raise ConfigError(
            f"The saved Google Drive credentials {credentials} could not be refreshed ({error}); {advice}"
        ) from None
    save_credentials(auth, credentials)


def save_credentials(auth: Any, credentials: Path) -> None:
    """Save credentials (oauth2client creates the file with mode 0600)."""
    credentials.parent.mkdir(parents=True, exist_ok=True)
    auth.SaveCredentialsFile(str(credentials))


def _service_account(key: Path, timeout: float | None) -> Any:
    from pydrive2.auth import GoogleAuth

    if not key.is_file():
        raise ConfigError(
            f"The Google Drive service account key {key} ([gdrive] service_account_key in "
            f"{_config_file()}) does not exist. Create a key for the service account in the Google "
            "Cloud console (IAM & Admin > Service accounts > Keys > Add key > JSON) and save it there"
        )
    warn_if_exposed(key)
    auth = GoogleAuth(
        settings={
            "client_config_backend": "service",
            "service_config": {"client_json_file_path": str(key), "client_user_email": None},
            "oauth_scope": SCOPES,
        },
        http_timeout=timeout,
    )
    try:
        auth.ServiceAuth()
    except Exception as error:
        raise ConfigError(
            f"{key} is not a usable service account key ({type(error).__name__}: {error}); "
            "download a new JSON key for the service account"
        ) from None
    return auth


class DriveClient:
    """The Drive v2 API (googleapiclient) on pydrive2's credentials, one HTTP connection per thread.

    Parameters
    ----------
    auth : pydrive2.auth.GoogleAuth
        Signed-in authentication.
    endpoint_url : str, optional
        Root URL of a Drive-compatible server serving its own discovery document (tests);
        default: Google's servers.
    """

    def __init__(self, auth: Any, endpoint_url: str | None = None) -> None:
        from googleapiclient.discovery import build

        self.auth = auth
        self._local = threading.local()
        options: dict[str, Any] = {"cache_discovery": False}
        if endpoint_url:
            options.update(discoveryServiceUrl=endpoint_url.rstrip("/") + DISCOVERY_PATH, static_discovery=False)
        try:
            self.service = build("drive", "v2", http=self.http(), **options)
        except Exception as error:
            where = endpoint_url or "Google's servers"
            raise ConfigError(f"Cannot load the Google Drive API description from {where}: {error}") from None

    def http(self) -> Any:
        """This thread's authorised ``httplib2.Http`` (they are not thread-safe)."""
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = self.auth.Get_Http_Object()
        return http

    def files(self) -> Any:
        """The ``files`` collection (built once: googleapiclient creates its methods per call)."""
        files = getattr(self, "_files", None)
        if files is None:
            files = self._files = self.service.files()
        return files
