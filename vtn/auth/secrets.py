"""Client secrets: generated at random, stored only as a salted scrypt hash, compared in constant time."""

import hashlib
import hmac
import secrets as _random

_N, _R, _P = 2**14, 8, 1


def new_secret() -> str:
    """A fresh client secret (256 bits, URL-safe)."""
    return _random.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """`scrypt$N$r$p$salt$hash` of a secret (what the store keeps)."""
    salt = _random.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when `secret` matches the stored hash (False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)
