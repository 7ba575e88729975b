"""API keys: a SQLAlchemy store (salted hashes only) and the in-memory key ring the hot path checks.

Design choices:
- A key reads `sk-luban-<id>-<secret>`: the public id (12 hex characters) finds the record, the secret
  (32 random bytes) is checked against `sha256(salt + secret)` in constant time. A slow password hash
  buys nothing for a 256-bit random secret and would cost every request; the secret is shown once.
- The hot path never touches the database: `KeyRing.check` is a dict lookup and one SHA-256. The ring
  reloads when the store's change counter moves (polled every `keys.poll` seconds, one tiny query), at
  once when Redis pub/sub says a key changed (a replica or the CLI published it), and fully every
  `keys.reload` seconds as a safety net.
- Revoked and expired keys stay in the ring so that the answer says which it is (both 401).
- Roles: admin, developer, app, auditor. Scopes are model names or shell patterns (`qwen-*`); empty means
  every model. Limits per key: rpm, tpm, budget per period (day, month or total) in the gateway currency.
- Origins: the web pages (`https://shop.example.com`, or `*`) from which a browser may use the key
  (gateway/cors.py); empty means none but the gateway's own. The column came after the first release:
  opening an older database adds it (`ALTER TABLE ... ADD COLUMN`, on SQLite and PostgreSQL alike); where
  that is not allowed, the store still reads and writes keys, without origins.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from luban.core.errors import NotFoundError, UsageError
from luban.gateway.hooks import CallerKey

log = logging.getLogger("luban.gateway")

ROLES = ("admin", "developer", "app", "auditor")
PERIODS = ("day", "month", "total")
PREFIX = "sk-luban-"
ID_LEN = 12
KEYS_CHANNEL = "keys"  # pub/sub channel, under the configured Redis prefix

metadata = sa.MetaData()
keys_table = sa.Table(
    "gateway_keys", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False, default="[]"),
    sa.Column("app", sa.String(200)),
    sa.Column("policy", sa.String(200)),
    sa.Column("prompt", sa.String(200)),
    sa.Column("purpose", sa.String(200)),
    sa.Column("rpm", sa.Integer),
    sa.Column("tpm", sa.Integer),
    sa.Column("budget", sa.Float),
    sa.Column("budget_period", sa.String(8), nullable=False, default="month"),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float),
    sa.Column("revoked", sa.Float),
    sa.Column("origins", sa.Text),  # JSON list; added after the first release (see `KeyStore._migrate`)
)
changes_table = sa.Table(
    "gateway_keys_changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("counter", sa.Integer, nullable=False),
)


@dataclass
class KeyRecord:
    """One key as the store and the ring hold it (never the secret)."""

    id: str
    name: str
    salt: str
    hash: str
    role: str = "app"
    scopes: tuple[str, ...] = ()
    app: str | None = None
    policy: str | None = None
    prompt: str | None = None
    purpose: str | None = None
    rpm: int | None = None
    tpm: int | None = None
    budget: float | None = None
    budget_period: str = "month"
    created: float = 0.0
    expires: float | None = None
    revoked: float | None = None
    origins: tuple[str, ...] = ()
    caller: CallerKey = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.caller = CallerKey(id=self.id, role=self.role, scopes=self.scopes, app=self.app, policy=self.policy,
                                prompt=self.prompt, purpose=self.purpose)
        self._patterns = [s for s in self.scopes if any(c in s for c in "*?[")]

    def allows(self, *names: str) -> bool:
        """Whether any of `names` (a model and its aliases) is inside the key's scopes."""
        if not self.scopes:
            return True
        if any(n in self.scopes for n in names):
            return True
        return any(fnmatch.fnmatchcase(n, p) for p in self._patterns for n in names)

    def allows_origin(self, origin: str) -> bool:
        """Whether a web page at `origin` (`https://shop.example.com`) may use this key."""
        return origin in self.origins or "*" in self.origins

    def status(self, now: float | None = None) -> str:
        if self.revoked:
            return "revoked"
        if self.expires is not None and (now or time.time()) >= self.expires:
            return "expired"
        return "active"


def normalize_origin(text: str) -> str:
    """`https://Shop.example.com:443/` -> `https://shop.example.com` (as browsers send it); `*` stays."""
    value = text.strip()
    if value == "*":
        return value
    hint = ("write the page's scheme, host and port, like https://shop.example.com or http://localhost:8080 "
            "(no path), or * for any page")
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"'{text}' is not a web origin (bad port)", hint) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query \
            or parts.fragment or parts.username:
        raise UsageError(f"'{text}' is not a web origin", hint)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


class KeyStore:
    """Keys in any SQLAlchemy database (SQLite by default, PostgreSQL shared by replicas)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        metadata.create_all(self.engine)
        self.has_origins = self._migrate()
        self._columns = [c for c in keys_table.columns if self.has_origins or c.name != "origins"]

    def _migrate(self) -> bool:
        """Add the `origins` column to a key table made before it existed; False when that is not allowed."""
        def present() -> bool:
            return "origins" in {c["name"] for c in sa.inspect(self.engine).get_columns(keys_table.name)}

        if present():
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.text(f"ALTER TABLE {keys_table.name} ADD COLUMN origins TEXT"))
        except sa.exc.DBAPIError as err:
            if present():  # another replica or the CLI added it meanwhile
                return True
            log.warning("keys: could not add the 'origins' column to %s (%s); keys work, but none may be used "
                        "from web pages until an admin runs: ALTER TABLE %s ADD COLUMN origins TEXT",
                        keys_table.name, str(err).splitlines()[0][:200], keys_table.name)
            return False
        log.info("keys: added the 'origins' column to %s", keys_table.name)
        return True

    def close(self) -> None:
        self.engine.dispose()

    def create(self, name: str, role: str = "app", scopes: Iterable[str] = (), *, app: str | None = None,
               policy: str | None = None, prompt: str | None = None, purpose: str | None = None,
               rpm: int | None = None, tpm: int | None = None, budget: float | None = None,
               budget_period: str = "month", expires: float | None = None,
               origins: Iterable[str] = ()) -> tuple[KeyRecord, str]:
        """A new key: (record, the full secret key to show once). `origins`: the web pages that may use it."""
        if role not in ROLES:
            raise UsageError(f"unknown role '{role}'", f"use one of: {', '.join(ROLES)}")
        if budget_period not in PERIODS:
            raise UsageError(f"unknown budget period '{budget_period}'", f"use one of: {', '.join(PERIODS)}")
        for value, what in ((rpm, "rpm"), (tpm, "tpm"), (budget, "budget")):
            if value is not None and value <= 0:
                raise UsageError(f"{what} must be positive, got {value}", f"leave --{what} out for no limit")
        allowed = tuple(dict.fromkeys(normalize_origin(o) for o in origins))
        if allowed and not self.has_origins:
            raise UsageError("this key database has no 'origins' column, so keys cannot list web pages",
                             f"an admin can add it: ALTER TABLE {keys_table.name} ADD COLUMN origins TEXT")
        kid, secret, salt = secrets.token_hex(ID_LEN // 2), secrets.token_urlsafe(32), secrets.token_hex(16)
        rec = KeyRecord(id=kid, name=name, salt=salt, hash=_digest(salt, secret), role=role,
                        scopes=tuple(scopes), app=app, policy=policy, prompt=prompt, purpose=purpose, rpm=rpm,
                        tpm=tpm, budget=budget, budget_period=budget_period, created=time.time(),
                        expires=expires, origins=allowed)
        row = {c.name: getattr(rec, c.name) for c in self._columns}
        row["scopes"] = json.dumps(list(rec.scopes))
        if self.has_origins:
            row["origins"] = json.dumps(list(rec.origins))
        with self.engine.begin() as conn:
            conn.execute(keys_table.insert().values(**row))
            self._bump(conn)
        return rec, f"{PREFIX}{kid}-{secret}"

    def set_origins(self, kid: str, origins: Iterable[str]) -> KeyRecord:
        """Replace the web pages that may use key `kid` (normalized; empty: none but the gateway's own)."""
        allowed = [*dict.fromkeys(normalize_origin(o) for o in origins)]
        if not self.has_origins:
            raise UsageError("this key database has no 'origins' column, so keys cannot list web pages",
                             f"an admin can add it: ALTER TABLE {keys_table.name} ADD COLUMN origins TEXT")
        with self.engine.begin() as conn:
            done = conn.execute(keys_table.update().where(keys_table.c.id == kid).values(origins=json.dumps(allowed)))
            if done.rowcount == 0:
                raise NotFoundError(f"no key with id '{kid}'", "`luban keys list` shows the ids")
            self._bump(conn)
        return self.get(kid)

    def revoke(self, kid: str) -> KeyRecord:
        with self.engine.begin() as conn:
            done = conn.execute(keys_table.update().where(keys_table.c.id == kid).values(revoked=time.time()))
            if done.rowcount == 0:
                raise NotFoundError(f"no key with id '{kid}'", "`luban keys list` shows the ids")
            self._bump(conn)
        return self.get(kid)

    def get(self, kid: str) -> KeyRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*self._columns).where(keys_table.c.id == kid)).mappings().first()
        if row is None:
            raise NotFoundError(f"no key with id '{kid}'", "`luban keys list` shows the ids")
        return _record(row)

    def all(self) -> list[KeyRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*self._columns).order_by(keys_table.c.created)).mappings().all()
        return [_record(r) for r in rows]

    def counter(self) -> int:
        """Moves on every change; the ring polls it (one indexed row)."""
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(changes_table.c.counter).where(changes_table.c.id == 1)).scalar()
        return int(value or 0)

    def _bump(self, conn: sa.Connection) -> None:
        done = conn.execute(changes_table.update().where(changes_table.c.id == 1)
                            .values(counter=changes_table.c.counter + 1))
        if done.rowcount == 0:
            conn.execute(changes_table.insert().values(id=1, counter=1))


def _record(row: Any) -> KeyRecord:
    data = dict(row)
    data["scopes"] = tuple(json.loads(data["scopes"] or "[]"))
    data["origins"] = tuple(json.loads(data.get("origins") or "[]"))
    return KeyRecord(**data)


class AuthFailure(Exception):  # noqa: N818 - a decision on the hot path, turned into a 401
    def __init__(self, message: str, code: str = "invalid_api_key") -> None:
        super().__init__(message)
        self.message, self.code = message, code


class KeyRing:
    """The keys in memory: `check` is what the hot path calls, with no I/O."""

    def __init__(self, records: Iterable[KeyRecord] = ()) -> None:
        self._keys: dict[str, KeyRecord] = {}
        self.counter = -1
        self.loaded_at = 0.0
        self.replace(records)

    def replace(self, records: Iterable[KeyRecord], counter: int | None = None) -> None:
        self._keys = {r.id: r for r in records}
        self._verified: dict[str, KeyRecord] = {}  # token -> record, once its hash matched (a new ring, a new map)
        self.loaded_at = time.monotonic()
        if counter is not None:
            self.counter = counter

    def __len__(self) -> int:
        return len(self._keys)

    def check(self, token: str) -> KeyRecord:
        """The key record for a bearer token, or `AuthFailure` saying why not."""
        rec = self._verified.get(token)
        if rec is not None and not rec.revoked and (rec.expires is None or time.time() < rec.expires):
            return rec
        if not token.startswith(PREFIX) or len(token) < len(PREFIX) + ID_LEN + 2:
            raise AuthFailure("Incorrect API key provided. Luban keys start with 'sk-luban-'; "
                              "create one with `luban keys create`.")
        kid = token[len(PREFIX):len(PREFIX) + ID_LEN]
        rec = self._keys.get(kid)
        if rec is None or not hmac.compare_digest(rec.hash, _digest(rec.salt, token[len(PREFIX) + ID_LEN + 1:])):
            raise AuthFailure(f"Incorrect API key provided (key id {kid}). Check the key, or create one with "
                              "`luban keys create`.")
        if rec.revoked:
            raise AuthFailure(f"API key {kid} was revoked; ask an admin for a new key.", "revoked_api_key")
        if rec.expires is not None and time.time() >= rec.expires:
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(rec.expires))
            raise AuthFailure(f"API key {kid} expired on {when}; ask an admin for a new key.", "expired_api_key")
        if len(self._verified) < 100_000:  # bounded: a flood of distinct valid tokens cannot grow it forever
            self._verified[token] = rec
        return rec


async def publish_change(redis_url: str | None, prefix: str, kid: str) -> None:
    """Tell every replica that key `kid` changed (best effort: the ring's poll catches up anyway)."""
    if not redis_url:
        return
    import redis.asyncio as aioredis  # optional dependency: the `redis` extra

    client = aioredis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
    try:
        await client.publish(prefix + KEYS_CHANNEL, kid)
    except Exception as err:  # noqa: BLE001 - the periodic reload is the safety net
        log.warning("could not publish the key change to Redis (%s); replicas reload within their poll", err)
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()
