"""Replay memory for XML signatures: one row per (certificate fingerprint, nonce)."""

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from vtn.store.security_models import SignatureNonce


def remember_nonce(session: Session, fingerprint: str, nonce: str, signed_at: datetime, now: datetime, window: timedelta) -> bool:
    """Record a nonce; False when it was already recorded (a replay). Nonces older than the replay
    window are forgotten: a message that old is refused by its timestamp anyway."""
    session.execute(delete(SignatureNonce).where(SignatureNonce.signed_at < now - 2 * window))
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[session.get_bind().dialect.name]
    statement = insert(SignatureNonce).values(fingerprint=fingerprint, nonce=nonce, signed_at=signed_at)
    inserted = session.execute(statement.on_conflict_do_nothing().returning(SignatureNonce.nonce)).first()
    return inserted is not None
