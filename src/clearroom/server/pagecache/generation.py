"""The generation: one random number that every write to a watched table replaces, in the
writing transaction, by a database trigger (see the package docstring for why this is enough).

PostgreSQL: a deferred constraint trigger, so the one-row table is locked only while a writing
transaction commits (an immediate trigger would hold that lock from the first write to the commit
and serialize every writer); a transaction-local flag makes a bulk write replace it once.
SQLite has one writer at a time anyway, and row triggers only.
"""
# The SQL below is built from this module's constants and the models' own table names only.
# ruff: noqa: S608

from __future__ import annotations

from django.apps import apps
from django.db import DatabaseError, connection, connections

TABLE = "clearroom_generation"
TRIGGER = "clearroom_generation"

UNWATCHED = {
    "audit.AuditEvent": "written on every confidential read; never on a public page",
    "audit.AuditBatch": "sealing the trail changes no public page",
    "notifications.Notification": "a member's inbox",
    "notifications.Delivery": "delivery bookkeeping",
    "notifications.Preference": "a member's settings",
    "notifications.Webhook": "an organisation's settings",
    "accounts.ApiToken": "its last use is written on API requests",
    "accounts.FailedSignIn": "sign-in lockout bookkeeping",
    "accounts.TotpDevice": "a member's second factor",
    "accounts.Passkey": "a member's second factor",
    "accounts.OidcIdentity": "a member's single sign-on link, used at each sign-in",
    "accounts.Invitation": "never public",
    "jobs.Job": "queue bookkeeping, written while jobs run",
}
"""Models whose writes cannot change what an anonymous visitor sees, and that change often."""


def watched_tables() -> list[str]:
    """Every table of Clearroom's models (with many-to-many tables) except :data:`UNWATCHED`:
    a new model is watched unless someone decides otherwise."""
    return sorted(
        {
            m._meta.db_table
            for m in apps.get_models(include_auto_created=True)
            if m.__module__.startswith("clearroom.")
            and not m._meta.proxy
            and m._meta.managed
            and m._meta.label not in UNWATCHED
        }
    )


_POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('clearroom.generation_replaced', true) IS DISTINCT FROM 'yes' THEN
    PERFORM set_config('clearroom.generation_replaced', 'yes', true);
    UPDATE {TABLE} SET value = floor(random() * 9e18)::bigint;
  END IF;
  RETURN NULL;
END $$"""


def install(using: str = "default") -> None:
    """Create the table (once) and a trigger on every watched table; idempotent."""
    db = connections[using]
    tables = [t for t in watched_tables() if t in db.introspection.table_names()]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY CHECK (id = 1),"
                " value bigint NOT NULL)"
            )
            cursor.execute(f"INSERT INTO {TABLE} VALUES (1, 0) ON CONFLICT DO NOTHING")
            cursor.execute(_POSTGRES_FUNCTION)
            for table in tables:
                cursor.execute(f'DROP TRIGGER IF EXISTS {TRIGGER} ON "{table}"')
                cursor.execute(
                    f"CREATE CONSTRAINT TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE"
                    f' ON "{table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW'
                    f" EXECUTE FUNCTION {TRIGGER}()"
                )
                cursor.execute(f'DROP TRIGGER IF EXISTS {TRIGGER}_truncate ON "{table}"')
                cursor.execute(
                    f'CREATE TRIGGER {TRIGGER}_truncate AFTER TRUNCATE ON "{table}"'
                    f" FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
                )
        else:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1),"
                " value INTEGER NOT NULL)"
            )
            cursor.execute(f"INSERT OR IGNORE INTO {TABLE} VALUES (1, 0)")
            for table in tables:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    name = f"{TRIGGER}_{table}_{event.lower()}"
                    cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
                    cursor.execute(
                        f'CREATE TRIGGER "{name}" AFTER {event} ON "{table}"'
                        f" BEGIN UPDATE {TABLE} SET value = random(); END"
                    )
    bump(using)  # a migration may have changed what pages show


def uninstall(using: str = "default") -> None:
    """Drop the triggers (before migrating); the table stays."""
    db = connections[using]
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname IN (%s, %s)",
                [TRIGGER, f"{TRIGGER}_truncate"],
            )
            for name, table in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [f"{TRIGGER}_%"],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def current() -> int | None:
    """The generation now, or None when nothing may be cached: inside a transaction (its
    uncommitted writes have not replaced the generation yet) or before :func:`install` ran."""
    if connection.in_atomic_block:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT value FROM {TABLE}")
            row = cursor.fetchone()
    except DatabaseError:  # not installed: this database was never migrated by this version
        return None
    return None if row is None else int(row[0])


def bump(using: str = "default") -> None:
    """Replace the generation for a change the triggers cannot see (a new log checkpoint)."""
    db = connections[using]
    random = "floor(random() * 9e18)::bigint" if db.vendor == "postgresql" else "random()"
    with db.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET value = {random}")
