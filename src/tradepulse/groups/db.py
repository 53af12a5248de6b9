"""Engines, sessions and migrations for the working-group database.

SQLite by default (:func:`tradepulse.config.default_groups_url`), PostgreSQL by URL
(``postgresql+psycopg://user@host/db``; add ``?options=-csearch_path%3Dmyschema`` to use a schema).
The schema is created and upgraded only by the Alembic migrations shipped in ``groups/migrations``
(configured in code, no ``alembic.ini``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from tradepulse.config import default_groups_url

MIGRATIONS = Path(__file__).parent / "migrations"
_ENGINES: dict[str, Engine] = {}


def groups_url(db: str | Path | None = None) -> str:
    """The groups database as an SQLAlchemy URL: ``db`` may be a URL (``postgresql+psycopg://…``,
    ``sqlite:///…``) or a plain SQLite file path (→ ``sqlite:///<absolute path>``); None → the default."""
    if db is None or str(db) == "":
        return default_groups_url()
    s = str(db)
    return s if "://" in s else f"sqlite:///{Path(s).expanduser().resolve()}"


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: the configured groups DB).

    SQLite files get WAL journaling, a 30 s busy timeout (concurrent writers wait instead of failing)
    and enforced foreign keys; ``sqlite://`` (in-memory) shares one connection.  Parent directories of
    SQLite files are created.
    """
    url = groups_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        memory = u.database in (None, "", ":memory:")
        if not memory:
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine_or_url: Engine | str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if isinstance(engine_or_url, str):
        cfg.set_main_option("sqlalchemy.url", engine_or_url.replace("%", "%%"))
    return cfg


def _migrate(engine: Engine, run) -> None:
    """Run ``run(cfg)`` (an Alembic command) in one transaction on ``engine``.

    SQLite: foreign keys are switched off for the migration (``PRAGMA foreign_keys`` is a no-op inside a
    transaction, so before it begins) because Alembic's batch mode rebuilds a table by copy, drop and
    rename, and dropping the old table would fire ``ON DELETE CASCADE`` / ``SET NULL`` on the rows that
    refer to it (meeting attendees, decisions, action items' decision links).  ``PRAGMA foreign_key_check``
    must come back empty before the migration commits; the pragma is switched back on afterwards.
    """
    cfg = alembic_config()
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            run(cfg)
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                run(cfg)
                bad = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if bad:
                    raise RuntimeError(f"migration left rows with broken foreign keys: {bad[:5]}")
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations on ``engine`` up to ``revision``."""
    _migrate(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Run the Alembic migrations on ``engine`` down to ``revision`` (``base`` drops every table)."""
    _migrate(engine, lambda cfg: command.downgrade(cfg, revision))


def current_revision(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def session_factory(url: str | None = None, *, migrate: bool = True) -> sessionmaker[Session]:
    """A ``sessionmaker`` bound to ``url``; runs the migrations to head first (``migrate=True``).

    Sessions do not expire objects on commit, so returned ORM objects stay readable.
    """
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    return sessionmaker(bind=engine, expire_on_commit=False)
