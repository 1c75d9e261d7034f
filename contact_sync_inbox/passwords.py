"""Password hashes for the inbox pages' users: ``hashlib.scrypt`` from the standard library, no dependency.

A hash is one string ``scrypt$<n>$<r>$<p>$<salt, base64>$<key, base64>``, so the cost can be raised later
without breaking stored hashes. Verification compares in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["InvalidPasswordHashError", "hash_password", "verify_password"]

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # 16 MiB per hash, ~50 ms: slow for guessing, fine for a login
KEY_LENGTH = 32
MAX_PASSWORD_BYTES = (
    1024  # scrypt cost does not grow with length, but a login form has no business sending MBs
)


class InvalidPasswordHashError(ValueError):
    """A configured password hash is not in the ``scrypt$n$r$p$salt$key`` format."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * 1024 * 1024
    )


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """Hash ``password`` with a fresh random salt.

    :param password: the clear-text password (not logged, not stored).
    :return: ``scrypt$n$r$p$salt$key``.
    """
    if not password:
        raise ValueError("the password is empty")
    salt = secrets.token_bytes(16)
    key = _derive(password, salt, n, r, p, KEY_LENGTH)
    return f"{SCHEME}${n}${r}${p}${_b64(salt)}${_b64(key)}"


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """Split a stored hash into its parameters, salt and key.

    :raises InvalidPasswordHashError: the string is not a hash made by :func:`hash_password`.
    """
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise InvalidPasswordHashError("a password hash must look like scrypt$n$r$p$salt$key")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
    except ValueError as err:
        raise InvalidPasswordHashError(f"a password hash has a malformed part ({err})") from None
    if n < 2 or n & (n - 1) or not (1 <= r <= 64) or not (1 <= p <= 16) or not salt or not key:
        raise InvalidPasswordHashError("a password hash has out-of-range scrypt parameters")
    return n, r, p, salt, key


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (constant-time compare; a malformed hash never matches)."""
    try:
        n, r, p, salt, key = parse_hash(stored)
    except InvalidPasswordHashError:
        return False
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return False
    return hmac.compare_digest(_derive(password, salt, n, r, p, len(key)), key)


#: Verified against when the user does not exist, so an unknown name costs as much time as a wrong password.
DUMMY_HASH = f"{SCHEME}${N}${R}${P}${_b64(b'contact-sync-inb')}${_b64(bytes(KEY_LENGTH))}"
