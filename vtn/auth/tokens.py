"""Access tokens: JWTs signed with HS256 (PyJWT), carrying the client id and its granted scopes."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"


class TokenInvalid(ValueError):
    """A bearer token that is missing, malformed, forged or expired; the message says which."""


@dataclass(frozen=True)
class Grant:
    """Who a valid token speaks for, and what it may do."""

    client_id: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class TokenIssuer:
    """Issues and checks tokens for one audience (e.g. `cariflex-dso`)."""

    key: str
    audience: str
    lifetime: timedelta = timedelta(hours=1)

    def issue(self, client_id: str, scopes: frozenset[str], now: datetime) -> str:
        """A signed token for `client_id` with `scopes`, valid for `lifetime` from `now`."""
        claims = {
            "sub": client_id,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + self.lifetime).timestamp()),
            "scope": " ".join(sorted(scopes)),
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def verify(self, token: str, now: datetime) -> Grant:
        """The grant a token carries; TokenInvalid when it is not one of ours or has expired."""
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                options={"require": ["sub", "exp", "aud"], "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise TokenInvalid(f"invalid token ({exc})") from exc
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now.timestamp():
            raise TokenInvalid("token expired")
        return Grant(client_id=str(claims["sub"]), scopes=frozenset(str(claims.get("scope", "")).split()))
