"""Master keys and where they live.

A master key never encrypts data itself: it wraps the fresh data key of each object. Three kinds:

- :class:`SymmetricKey`: 256 random bits, wrapping with AES key wrap (RFC 3394). The default,
  generated on first use into ``master.key`` in the config directory.
- :class:`RsaKey`: an RSA key pair, wrapping with RSA-OAEP-SHA256. A public key alone can encrypt
  (a machine that uploads but must never read) but not decrypt.
- :class:`PassphraseKey`: a passphrase stretched by scrypt into an AES key-wrapping key; the salt
  and cost travel in each object's header.

A :class:`KeyRing` gathers the keys an interface may use, in this order: keys passed in, the
``[encryption] master_key`` setting (or ``CC_ENCRYPTION_MASTER_KEY``), the ``passphrase`` setting
(or ``CC_ENCRYPTION_PASSPHRASE``), the key file, and read-only keys in the ``keys/`` folder beside
it. The first one encrypts; any of them decrypts the objects made with it. Key files are created
with mode 0600 and are never overwritten.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from cc_core.caller import warn
from cc_core.config import config_dir, create_private_file, warn_if_exposed

from .errors import DecryptionError, KeyMismatchError, MasterKeyError, MasterKeyMissingError
from .format import ALGORITHM_AES_KW, ALGORITHM_RSA_OAEP, ALGORITHM_SCRYPT_KW, DATA_KEY_SIZE, KEY_ID_SIZE

SYMMETRIC_PREFIX = "aes256:"
EXTRA_KEYS_FOLDER = "keys"
DEFAULT_KEY_FILE = "master.key"
MASTER_KEY_VARIABLE = "CC_ENCRYPTION_MASTER_KEY"
PASSPHRASE_VARIABLE = "CC_ENCRYPTION_PASSPHRASE"
SCRYPT_SALT_SIZE = 16
# Refuse scrypt costs above 1 GiB of memory: a damaged or hostile header must not exhaust memory.
SCRYPT_MAX_MEMORY = 1 << 30
#: A reader runs scrypt at most this many times the work of its own cost (or the default cost,
#: whichever is higher) before anything is authenticated; ``[encryption] scrypt_max_factor``.
SCRYPT_MAX_FACTOR = 4
_BACKUP_ADVICE = (
    "BACK IT UP: every object encrypted with it is unreadable, by you as well, without it. "
    "Run 'cottoncandy key export BACKUP_FILE' and keep the copy somewhere safe and private."
)


def format_key_id(key_id: bytes) -> str:
    """The printed form of a key id: 32 hex digits."""
    return key_id.hex()


def _fingerprint(kind: bytes, material: bytes) -> bytes:
    return hashlib.sha256(b"cottoncandy/key-id/v1/" + kind + b"\x00" + material).digest()[:KEY_ID_SIZE]


class MasterKey(ABC):
    """A key that wraps and unwraps per-object data keys.

    Attributes
    ----------
    algorithm : int
        The wrap algorithm number written into headers (see FORMAT.md).
    source : str
        Where the key came from, for messages (``"key file /home/me/.config/..."``).
    """

    algorithm: ClassVar[int]
    kind: ClassVar[str]
    source: str = "passed in"

    @property
    @abstractmethod
    def key_id(self) -> bytes:
        """The fingerprint that headers record (for a passphrase: of the current salt)."""

    @property
    def can_decrypt(self) -> bool:
        return True

    @property
    def wrapped_size(self) -> int:
        """Bytes of a wrapped data key: 40 for AES key wrap of 32 bytes."""
        return DATA_KEY_SIZE + 8

    def wrap_parameters(self) -> bytes:
        """Algorithm parameters stored in the header after the wrapped key (empty by default)."""
        return b""

    @abstractmethod
    def wrap(self, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` under this master key."""

    @abstractmethod
    def unwrap(self, wrapped: bytes, parameters: bytes) -> bytes:
        """Recover a data key; raise :class:`DecryptionError` when it does not authenticate."""

    def matches(self, key_id: bytes, algorithm: int, parameters: bytes) -> bool:
        """Whether an object whose header records these values was made with this key."""
        return algorithm == self.algorithm and secrets.compare_digest(key_id, self.key_id)

    @abstractmethod
    def export(self, *, public: bool = False) -> str:
        """The key as the text of a key file."""

    def describe(self) -> str:
        return f"{self.kind} key {format_key_id(self.key_id)} ({self.source})"

    def __repr__(self) -> str:  # never the secret
        return f"<{type(self).__name__} {format_key_id(self.key_id)}>"


def _comment_block(key: MasterKey, lines: Iterable[str]) -> str:
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = [f"cottoncandy master key ({key.kind}), key id {format_key_id(key.key_id)}, written {created}",
              *lines]
    return "".join(f"# {line}\n" for line in header)


class SymmetricKey(MasterKey):
    """A 256-bit master key; data keys are wrapped with AES key wrap (RFC 3394)."""

    algorithm = ALGORITHM_AES_KW
    kind = "aes-256"

    def __init__(self, secret: bytes, *, source: str = "passed in") -> None:
        if len(secret) != DATA_KEY_SIZE:
            raise MasterKeyError(f"An AES master key has {DATA_KEY_SIZE} bytes, not {len(secret)} ({source})")
        self._secret = bytes(secret)
        self._key_id = _fingerprint(b"aes-256", self._secret)
        self.source = source

    @classmethod
    def generate(cls) -> SymmetricKey:
        return cls(secrets.token_bytes(DATA_KEY_SIZE), source="generated")

    @property
    def key_id(self) -> bytes:
        return self._key_id

    def wrap(self, data_key: bytes) -> bytes:
        from Crypto.Cipher import AES

        return AES.new(self._secret, AES.MODE_KW).seal(data_key)

    def unwrap(self, wrapped: bytes, parameters: bytes) -> bytes:
        from Crypto.Cipher import AES

        try:
            return AES.new(self._secret, AES.MODE_KW).unseal(wrapped)
        except ValueError:
            raise DecryptionError("is damaged: its wrapped data key fails AES key-wrap authentication") from None

    def export(self, *, public: bool = False) -> str:
        if public:
            raise MasterKeyError("An AES master key has no public part: export it whole, and keep it private")
        body = SYMMETRIC_PREFIX + base64.b64encode(self._secret).decode("ascii")
        return _comment_block(self, [_BACKUP_ADVICE]) + body + "\n"


class RsaKey(MasterKey):
    """An RSA key pair; data keys are wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256)."""

    algorithm = ALGORITHM_RSA_OAEP
    kind = "rsa"

    def __init__(self, key: Any, *, source: str = "passed in") -> None:
        if key.size_in_bits() < 2048:
            raise MasterKeyError("RSA master keys need at least 2048 bits; "
                                 f"this one has {key.size_in_bits()} ({source})")
        self._key = key
        self._key_id = _fingerprint(b"rsa", key.public_key().export_key(format="DER"))
        self.source = source

    @classmethod
    def generate(cls, bits: int = 3072) -> RsaKey:
        from Crypto.PublicKey import RSA

        return cls(RSA.generate(bits), source="generated")

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def can_decrypt(self) -> bool:
        return bool(self._key.has_private())

    @property
    def wrapped_size(self) -> int:
        return self._key.size_in_bytes()

    def _oaep(self) -> Any:
        from Crypto.Cipher import PKCS1_OAEP
        from Crypto.Hash import SHA256

        return PKCS1_OAEP.new(self._key, hashAlgo=SHA256)

    def wrap(self, data_key: bytes) -> bytes:
        return self._oaep().encrypt(data_key)

    def unwrap(self, wrapped: bytes, parameters: bytes) -> bytes:
        if not self.can_decrypt:
            raise MasterKeyError(
                f"Only the public half of RSA key {format_key_id(self.key_id)} is available ({self.source}): "
                "it encrypts but cannot decrypt. Import the private key to read these objects"
            )
        try:
            return self._oaep().decrypt(wrapped)
        except (ValueError, TypeError):
            raise DecryptionError("is damaged: its wrapped data key fails RSA-OAEP decryption") from None

    def export(self, *, public: bool = False) -> str:
        if public or not self.can_decrypt:
            pem = self._key.public_key().export_key(format="PEM").decode("ascii")
            note = "Public key: encrypts for the owner of the private key, cannot decrypt."
        else:
            pem = self._key.export_key(format="PEM", pkcs=8).decode("ascii")
            note = _BACKUP_ADVICE
        return _comment_block(self, [note]) + pem + "\n"

    def describe(self) -> str:
        half = "" if self.can_decrypt else ", public half only"
        return f"rsa-{self._key.size_in_bits()} key {format_key_id(self.key_id)} ({self.source}{half})"


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's cost parameters: N = 2**log_n, block size r, parallelism p."""

    log_n: int = 15
    r: int = 8
    p: int = 1

    def acceptable(self) -> bool:
        """Whether the cost is one cc-crypto runs (at most 1 GiB of memory)."""
        memory = 128 * self.r * (1 << self.log_n)
        return 10 <= self.log_n <= 24 and 1 <= self.r <= 64 and 1 <= self.p <= 16 and memory <= SCRYPT_MAX_MEMORY

    @property
    def work(self) -> int:
        """scrypt's time and (for p = 1) memory grow with N * r * p."""
        return (1 << self.log_n) * self.r * self.p

    def __str__(self) -> str:
        return f"log2 N={self.log_n}, r={self.r}, p={self.p}"


class PassphraseKey(MasterKey):
    """A passphrase; scrypt turns it and a salt into an AES key-wrapping key.

    The salt is drawn once per key object (so one scrypt run serves every object this process
    writes) and stored in each header with the cost, so reading needs only the passphrase. The key
    id, a fingerprint of the derived key, differs from salt to salt.
    """

    algorithm = ALGORITHM_SCRYPT_KW
    kind = "passphrase"

    def __init__(self, passphrase: str | bytes, *, cost: ScryptCost = ScryptCost(), salt: bytes | None = None,
                 source: str = "passed in", max_factor: float = SCRYPT_MAX_FACTOR) -> None:
        if not passphrase:
            raise MasterKeyError(f"The encryption passphrase is empty ({source})")
        if not cost.acceptable():
            raise MasterKeyError(f"scrypt cost {cost} is out of range: "
                                 f"use log2 N 10-24, r 1-64, p 1-16, at most 1 GiB ({source})")
        if not max_factor >= 1:
            raise MasterKeyError(f"[encryption] scrypt_max_factor must be at least 1, not {max_factor}")
        self._passphrase = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
        self._cost = cost
        # objects written at the default cost stay readable with a cheaper configured one
        self._reference = max(cost, ScryptCost(), key=lambda c: c.work)
        self._max_factor = max_factor
        self._salt = salt
        self._derived: dict[bytes, SymmetricKey] = {}
        self.source = source

    def _wrapping_key(self, parameters: bytes) -> SymmetricKey:
        if parameters not in self._derived:
            from Crypto.Protocol.KDF import scrypt

            salt, cost = split_scrypt_parameters(parameters)
            if not cost.acceptable():
                raise DecryptionError(f"is damaged: its header asks for scrypt cost {cost}, beyond what cc-crypto runs")
            if cost.work > self._max_factor * self._reference.work:  # before scrypt runs: nothing is authenticated yet
                raise DecryptionError(
                    f"asks in its header for scrypt cost {cost}, {cost.work / self._reference.work:g} times the cost "
                    f"of {self._reference}; a damaged or hostile header could make every read spend minutes and "
                    f"GiBs, so it is refused. If you wrote it with that cost, raise [encryption] scrypt_max_factor "
                    f"(now {self._max_factor:g}) or set [encryption] scrypt_log_n to the cost you use"
                )
            secret = scrypt(self._passphrase, salt, DATA_KEY_SIZE, N=1 << cost.log_n, r=cost.r, p=cost.p)
            self._derived[parameters] = SymmetricKey(secret, source=self.source)
        return self._derived[parameters]

    def wrap_parameters(self) -> bytes:
        if self._salt is None:
            self._salt = secrets.token_bytes(SCRYPT_SALT_SIZE)
        return self._salt + bytes((self._cost.log_n, self._cost.r, self._cost.p))

    @property
    def key_id(self) -> bytes:
        return _fingerprint(b"scrypt", self._wrapping_key(self.wrap_parameters()).key_id)

    def matches(self, key_id: bytes, algorithm: int, parameters: bytes) -> bool:
        if algorithm != self.algorithm:
            return False
        derived = self._wrapping_key(parameters)
        return secrets.compare_digest(key_id, _fingerprint(b"scrypt", derived.key_id))

    def wrap(self, data_key: bytes) -> bytes:
        return self._wrapping_key(self.wrap_parameters()).wrap(data_key)

    def unwrap(self, wrapped: bytes, parameters: bytes) -> bytes:
        return self._wrapping_key(parameters).unwrap(wrapped, b"")

    def export(self, *, public: bool = False) -> str:
        raise MasterKeyError("A passphrase key is not stored anywhere, so there is no key file to export")

    def describe(self) -> str:
        return f"passphrase ({self.source})"


def split_scrypt_parameters(parameters: bytes) -> tuple[bytes, ScryptCost]:
    """The salt and cost stored after a passphrase-wrapped key."""
    if len(parameters) != SCRYPT_SALT_SIZE + 3:
        raise DecryptionError("is damaged: its scrypt parameters have the wrong length")
    log_n, r, p = parameters[SCRYPT_SALT_SIZE:]
    return bytes(parameters[:SCRYPT_SALT_SIZE]), ScryptCost(log_n, r, p)


def parse_key(value: Any, *, source: str = "passed in") -> MasterKey:
    """A master key from what a user has at hand.

    Parameters
    ----------
    value : MasterKey, bytes or str
        A key object; 32 raw bytes; the text of a key file (``aes256:BASE64`` or an RSA PEM, with
        ``#`` comment lines); or a bare base64 string of 32 bytes (as in an environment variable).
    source : str
        Where the value came from, used in messages.

    Raises
    ------
    MasterKeyError
        The value is none of these.
    """
    if isinstance(value, MasterKey):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if len(raw) == DATA_KEY_SIZE:
            return SymmetricKey(raw, source=source)
        value = raw.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise MasterKeyError(f"Cannot use a {type(value).__name__} as a master key ({source}): "
                             "pass bytes, key-file text or a key object")
    text = "\n".join(line for line in value.splitlines() if not line.lstrip().startswith("#")).strip()
    if "-----BEGIN" in text:
        from Crypto.PublicKey import RSA

        try:
            return RsaKey(RSA.import_key(text), source=source)
        except (ValueError, IndexError, TypeError) as exc:
            raise MasterKeyError(f"The RSA key ({source}) cannot be read: {exc}") from None
    encoded = text[len(SYMMETRIC_PREFIX):] if text.startswith(SYMMETRIC_PREFIX) else text
    try:
        secret = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != DATA_KEY_SIZE:
        raise MasterKeyError(
            f"The master key ({source}) is not a cottoncandy key: expected 'aes256:' and the base64 of "
            f"{DATA_KEY_SIZE} bytes, or an RSA key in PEM form"
        )
    return SymmetricKey(secret, source=source)


def read_key_file(path: Path) -> MasterKey:
    """Load a key file, warning when other users can read it."""
    warn_if_exposed(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyError(f"Cannot read the master key file {path}: {exc}") from None
    return parse_key(text, source=f"key file {path}")


def create_key_file(path: Path, text: str) -> bool:
    """Write a key file with mode 0600 unless ``path`` exists; True if this call created it.

    The file appears complete or not at all (written aside, then hard-linked into place), so a
    process that races to create the same key file reads either nothing or the whole key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(prefix=".cc-key-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError:  # a filesystem without hard links: exclusive create instead
            return create_private_file(path, text.encode("utf-8"))
        return True
    finally:
        os.unlink(temp)


class MasterKeyCreatedWarning(UserWarning):
    """A new master key was generated: back it up."""


class KeyRing:
    """The master keys an interface may use; files are read on first use.

    Parameters
    ----------
    keys : list of MasterKey
        Keys given directly (and from settings), in order of preference.
    key_file : Path, optional
        The default key file: read if it exists, generated on the first encryption if no key
        precedes it. None: never touch a key file.
    extra_folder : Path, optional
        A folder of further ``*.key`` files used for decryption only (imported old keys).
    may_generate : bool
        Whether a missing key file may be generated (``[encryption] generate_key``). Never in a
        dask worker, whatever this says.
    """

    def __init__(self, keys: Iterable[MasterKey] = (), *, key_file: Path | None = None,
                 extra_folder: Path | None = None, may_generate: bool = True) -> None:
        self._given = list(keys)
        self.key_file = key_file
        self.extra_folder = extra_folder
        self.may_generate = may_generate
        self._file_keys: list[MasterKey] | None = None

    @classmethod
    def from_config(cls, config: Any, key: Any = None) -> KeyRing:
        """Keys from ``key`` (one or a list), then config/environment, then the key files."""
        given = [] if key is None else [parse_key(k) for k in (key if isinstance(key, (list, tuple)) else [key])]
        inline = _setting(config, "master_key")
        if inline:
            given.append(parse_key(inline, source=f"{MASTER_KEY_VARIABLE} or [encryption] master_key"))
        passphrase = _setting(config, "passphrase")
        if passphrase:
            log_n = _setting(config, "scrypt_log_n")
            cost = ScryptCost(log_n=int(log_n)) if log_n else ScryptCost()
            factor = _setting(config, "scrypt_max_factor")
            given.append(PassphraseKey(passphrase, cost=cost,
                                       source=f"{PASSPHRASE_VARIABLE} or [encryption] passphrase",
                                       max_factor=float(factor) if factor else SCRYPT_MAX_FACTOR))
        folder = key_folder(config)
        may_generate = (_setting(config, "generate_key") or "true").lower() not in ("false", "no", "off", "0")
        return cls(given, key_file=key_file_path(config, folder), extra_folder=folder / EXTRA_KEYS_FOLDER,
                   may_generate=may_generate)

    def _files(self) -> list[MasterKey]:
        if self._file_keys is None:
            found = []
            if self.key_file is not None and self.key_file.exists():
                found.append(read_key_file(self.key_file))
            if self.extra_folder is not None and self.extra_folder.is_dir():
                found += [read_key_file(path) for path in sorted(self.extra_folder.glob("*.key"))]
            self._file_keys = found
        return self._file_keys

    def keys(self) -> list[MasterKey]:
        """Every available key, the encrypting one first."""
        return self._given + self._files()

    def encryption_key(self, *, generate: bool = True) -> MasterKey:
        """The key new objects are encrypted with, generating the key file if there is none.

        Raises
        ------
        MasterKeyMissingError
            No key is available and none may be generated: ``generate`` is False, there is no key
            file to create, the key ring may not generate (an interface rebuilt from a pickle), or
            this is a dask worker (its key would be unknown to everyone else, and lost with it).
        """
        if self._given:
            return self._given[0]
        primary = self.key_file is not None and self.key_file.exists()
        if primary:
            return self._files()[0]
        if not generate or self.key_file is None or not self.may_generate or _in_dask_worker():
            raise MasterKeyMissingError("cannot be encrypted: no master key is configured here, and none is "
                                        "generated outside the user's own session: " + _KEY_HELP)
        self._generate(self.key_file)
        return self._files()[0]

    def _generate(self, path: Path) -> None:
        key = SymmetricKey.generate()
        if create_key_file(path, key.export()):
            warn(
                f"cottoncandy generated a new encryption master key, id {format_key_id(key.key_id)}, in "
                f"{path}. {_BACKUP_ADVICE}",
                MasterKeyCreatedWarning,
            )
        self._file_keys = None  # read back what is on disk (another process may have won the race)

    def find(self, key_id: bytes, algorithm: int, parameters: bytes) -> MasterKey:
        """The key that made an object whose header records these values.

        Raises
        ------
        MasterKeyMissingError
            No key at all is available here.
        KeyMismatchError
            Keys are available, but none is the one the object needs.
        """
        available = self.keys()
        matching = [key for key in available if key.matches(key_id, algorithm, parameters)]
        if matching:  # a private key before the public half of the same pair
            return next((key for key in matching if key.can_decrypt), matching[0])
        wanted = format_key_id(key_id)
        kind = "a passphrase" if algorithm == ALGORITHM_SCRYPT_KW else f"master key {wanted}"
        if not available:
            raise MasterKeyMissingError(f"is encrypted and needs {kind}, but no master key is configured here: "
                                        + _KEY_HELP, key_id=wanted)
        have = "; ".join(key.describe() for key in available)
        raise KeyMismatchError(
            f"was encrypted with {kind}, which is not available here (available: {have}). "
            "Import that key with 'cottoncandy key import FILE' or pass it as key=", key_id=wanted,
        )


_KEY_HELP = (
    "import the key with 'cottoncandy key import FILE', set CC_ENCRYPTION_MASTER_KEY (or "
    "CC_ENCRYPTION_PASSPHRASE), or pass key= to get_encrypted_interface; on a dask cluster, hand the "
    "client's keys to the workers with cc.distributed.setup(client, cci)"
)


def _in_dask_worker() -> bool:
    """Whether this code runs in a dask.distributed task (checked without importing distributed)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


def _setting(config: Any, key: str) -> str:
    if config is None:
        return ""
    return (config.get("encryption", key, fallback="") or "").strip()


def key_folder(config: Any) -> Path:
    """The folder of the config file (and so of the key files)."""
    path = getattr(config, "path", None)
    return Path(path).parent if path else config_dir()


def key_file_path(config: Any, folder: Path | None = None) -> Path:
    """The master key file named by ``[encryption] key_file`` (relative to the config folder)."""
    name = Path(_setting(config, "key_file") or DEFAULT_KEY_FILE).expanduser()
    return name if name.is_absolute() else (folder or key_folder(config)) / name
