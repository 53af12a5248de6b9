"""Regression: the intermittent ``sqlite3.OperationalError: disk I/O error`` of the web group tests.

The web app checked the working-group database's header with ``open()``/``close()`` while SQLite connections
to the same file were open in the process.  Closing *any* descriptor of a file drops all of the process's
POSIX advisory locks on it, SQLite's included (https://www.sqlite.org/howtocorrupt.html, 2.2), so another
process closing its last connection could take the exclusive lock, checkpoint and delete the WAL and its
shared-memory file under the live connections — their next statement failed with "disk I/O error".  The
check now reads the file through SQLite.
"""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
from sqlalchemy import text


def _other_process_opens_and_closes(path) -> None:
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('SELECT count(*) FROM sqlite_master').fetchall(); c.close()")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)


def test_checking_the_groups_file_keeps_the_wal_of_live_connections(tmp_path):
    from tradepulse.groups import db
    from tradepulse.web.data import DataContext

    path = tmp_path / "groups.sqlite"
    url = f"sqlite:///{path}"
    live = db.session_factory(url)                          # migrated, WAL journal
    with live() as s:
        s.execute(text("CREATE TABLE probe (x INTEGER)"))
        s.execute(text("INSERT INTO probe VALUES (1)"))
        s.commit()
    holder = live().connection()                             # a connection left open, as the app's pool does
    holder.execute(text("SELECT count(*) FROM probe")).fetchall()
    assert (tmp_path / "groups.sqlite-wal").exists()
    DataContext._open_groups(SimpleNamespace(groups_url=url), db)   # what the web app does on first use
    _other_process_opens_and_closes(path)                    # e.g. a worker process or `tradepulse groups`
    assert (tmp_path / "groups.sqlite-wal").exists(), "the WAL was deleted under a live connection"
    with live() as s:
        s.execute(text("INSERT INTO probe VALUES (2)"))
        s.commit()
        assert s.execute(text("SELECT sum(x) FROM probe")).scalar() == 3
    holder.close()


@pytest.mark.parametrize("content, said", [(b"", "is empty"), (b"not a database at all, just text" * 4,
                                                                 "not an SQLite database")])
def test_a_bad_groups_file_is_a_clear_error(tmp_path, content, said):
    from tradepulse.groups import db
    from tradepulse.web.data import DataContext, GroupsUnavailable

    path = tmp_path / "groups.sqlite"
    path.write_bytes(content)
    with pytest.raises(GroupsUnavailable, match=said):
        DataContext._open_groups(SimpleNamespace(groups_url=f"sqlite:///{path}"), db)
    assert path.read_bytes() == content                      # never re-created or changed
