"""The hash chain: how one audit event is turned into bytes and hashed.

Pure functions, no database: `audit.services` uses them to write and `audit.verify` to check,
so both agree by construction. Changing anything here invalidates every stored hash.

Two schemes, told apart by seq (docs/audit.md): events before the chain head's
`hmac_from_seq` were hashed with plain SHA-256, which anyone with write access to the
database could recompute; from it on, each hash is an HMAC-SHA256 keyed with
`AUDIT_CHAIN_KEY`, which is held outside the database.
"""

import datetime
import functools
import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

GENESIS_HASH = "0" * 64
# Used when AUDIT_CHAIN_KEY is unset: a laptop's or a test's key, public by its very name.
# `manage.py check --deploy` fails on it (audit.checks).
LAPTOP_CHAIN_KEY = "insecure-laptop-audit-chain-key-set-AUDIT_CHAIN_KEY-in-production"

# Exactly these fields go into an event's hash; the primary key does not (it says nothing).
HASHED_FIELDS = frozenset(
    {
        "seq",
        "occurred_at",
        "actor_id",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "data",
        "reason",
    }
)


def _parse_float(text: str) -> int | float:
    # PostgreSQL's jsonb stores numbers as numeric and prints 1e+20 back as
    # 100000000000000000000, which Python reads as an int: store integral floats as ints
    # so the value read back is the value hashed.
    number = Decimal(text)
    if number == number.to_integral_value():
        return int(number)
    return float(text)


def normalise_json(value: dict | None) -> dict:
    """The value as it will read back from a JSONField on SQLite and PostgreSQL alike.

    Decimal, date, datetime, time and UUID become strings (DjangoJSONEncoder: datetimes are
    cut to milliseconds), tuples become lists, keys become strings, integral floats become
    ints. NaN and infinity are refused, as jsonb refuses them.
    """
    if not value:
        return {}
    return _NORMALISE_DECODER.decode(_NORMALISE_ENCODER.encode(value))


# Built once: json.dumps(cls=...) and json.loads(parse_float=...) build a new encoder and
# decoder on every call, a third of an audit append's Python time.
_NORMALISE_ENCODER = DjangoJSONEncoder(allow_nan=False)
_NORMALISE_DECODER = json.JSONDecoder(parse_float=_parse_float)


def _default(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime in an audit event: {value!r}")
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    if isinstance(value, datetime.date | datetime.time | Decimal | uuid.UUID):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    raise TypeError(f"{type(value).__name__} is not allowed in an audit event")


# Built once: json.dumps() would build a new encoder for every event verified.
_CANONICAL_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
)


def canonical_json(event_fields: dict) -> str:
    """One deterministic text for the event: sorted keys, no spaces, UTF-8 as is.

    `occurred_at` is ISO-8601 UTC with microseconds (both databases keep microseconds).
    """
    return _CANONICAL_ENCODER.encode(event_fields)


def chain_key() -> bytes:
    """The HMAC key, read on every call so that a changed setting (a test) takes effect."""
    return (settings.AUDIT_CHAIN_KEY or LAPTOP_CHAIN_KEY).encode()


@functools.lru_cache(maxsize=4)
def _hmac_pads(key: bytes) -> tuple["hashlib._Hash", "hashlib._Hash"]:
    # RFC 2104 with the keyed inner and outer states computed once per key and copied per
    # event: a third of hmac.digest's cost, which verify_audit pays for every event.
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return (
        hashlib.sha256(bytes(b ^ 0x36 for b in key)),
        hashlib.sha256(bytes(b ^ 0x5C for b in key)),
    )


def _hmac_sha256_hex(message: bytes) -> str:
    inner_pad, outer_pad = _hmac_pads(chain_key())
    inner, outer = inner_pad.copy(), outer_pad.copy()
    inner.update(message)
    outer.update(inner.digest())
    return outer.hexdigest()


def event_hash(fields: dict, prev_hash: str, *, keyed: bool = True) -> str:
    """The event's hash: `link_hash` of its canonical JSON (all hashed fields but seq)."""
    if fields.keys() != HASHED_FIELDS:
        # A missing or extra key would silently hash something else than what verify hashes.
        raise ValueError(f"hashed fields differ: {sorted(fields.keys() ^ HASHED_FIELDS)}")
    content = {name: value for name, value in fields.items() if name != "seq"}
    return link_hash(canonical_json(content), fields["seq"], prev_hash, keyed=keyed)


def link_hash(content: str, seq: int, prev_hash: str, *, keyed: bool = True) -> str:
    """HMAC-SHA256 hex (keyed) or SHA-256 hex (events before the cut-over) of
    "<content>|<seq>|<prev_hash>" in UTF-8.

    Seq and the previous hash stay outside the JSON so that PostgreSQL can finish the hash
    itself while it takes the chain head (audit.services, one statement an event), with
    pgcrypto: `encode(hmac(convert_to(content || '|' || seq::text || '|' || prev, 'UTF8'),
    key, 'sha256'), 'hex')`.
    """
    message = f"{content}|{seq}|{prev_hash}".encode()
    if keyed:
        return _hmac_sha256_hex(message)
    return hashlib.sha256(message).hexdigest()


def cutover_seal(hmac_from_seq: int) -> str:
    """Binds the cut-over seq to the key: without the key nobody can move the cut-over past
    keyed events and pass them off as plain SHA-256 ones, which anyone could recompute."""
    return _hmac_sha256_hex(f"audit-chain-hmac-from|{hmac_from_seq}".encode())


def anchor_mac(seq: int, digest: str, anchored_at: str) -> str:
    """An anchor's own HMAC: a line added to the anchor store without the key is refused."""
    return _hmac_sha256_hex(f"audit-chain-anchor|{seq}|{digest}|{anchored_at}".encode())
