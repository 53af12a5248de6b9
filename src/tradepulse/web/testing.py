"""A small SYNTHETIC demo site (warehouse + working-group database) for web tests and the web benchmark.

``demo_site(out_dir, small=True)`` builds the demo world with :func:`tradepulse.demo.build` (through the
ingest API) and seeds the working groups with :func:`tradepulse.groups.seed.seed_demo` (demo users
``admin`` / ``secretary`` / ``viewer`` with passwords ``<name>-demo``).  When the ingest API is not
installed yet it loads the generated frames straight into the warehouse tables instead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from tradepulse import schema


def _load_direct(out: Path, small: bool, seed: int) -> Path:
    from tradepulse.demo.world import SMALL, generate
    from tradepulse.warehouse import STORAGE, Warehouse

    world = generate(seed=seed, **(dict(SMALL) if small else {}))
    path = out / "warehouse.duckdb"
    if path.exists():
        path.unlink()
    with Warehouse(path) as wh:
        for name, frame, cols in (("flows", pd.concat([world.flows, world.customs], ignore_index=True),
                                   schema.FLOWS), ("services", world.services, schema.SERVICES),
                                  ("macro", world.macro, schema.MACRO)):
            df = frame.copy()
            df["load_id"] = "web-testing"
            for c in cols:
                if c not in df.columns:
                    df[c] = None
            wh.raw.register("incoming", df[list(cols)])
            wh.raw.execute(f'INSERT INTO "{STORAGE[name]}" SELECT * FROM incoming')
            wh.raw.unregister("incoming")
    return path


def demo_site(out_dir: str | Path, *, small: bool = True, seed: int = 1400,
              today: dt.date | None = None) -> tuple[Path, str]:
    """Build (or reuse) ``out_dir/warehouse.duckdb`` and ``out_dir/groups.sqlite``; return (path, groups URL)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wh = out / "warehouse.duckdb"
    groups = out / "groups.sqlite"
    if not wh.exists():
        from tradepulse import ingest
        if hasattr(ingest, "ingest_frame"):
            from tradepulse.demo import build
            build(out, seed=seed, small=small)
        else:
            _load_direct(out, small, seed)
    url = f"sqlite:///{groups.resolve()}"
    if not groups.exists():
        from tradepulse.demo.provinces import provinces
        from tradepulse.groups.seed import seed_demo
        seed_demo(url, provinces=tuple(provinces()["name_en"].head(5)), today=today)
    return wh, url


# ---------------------------------------------------------------- jobs for the computation-pool tests
def logged_call(log_file: str, seconds: float = 0.0) -> int:
    """Append this process's id to ``log_file``, sleep ``seconds`` and return the id (a job whose runs can
    be counted from another process; module level so a worker process can unpickle it)."""
    import os
    import time
    with open(log_file, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    time.sleep(seconds)
    return os.getpid()


def die(code: int = 3) -> None:
    """End this (worker) process at once, as a crash or the out-of-memory killer would."""
    import os
    os._exit(code)


def busy(log_file: str) -> None:
    """Log this process's id to ``log_file`` and fail as a computation meeting an ingest's lock does."""
    import os

    from tradepulse.web.data import WarehouseBusy
    with open(log_file, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    raise WarehouseBusy("the warehouse is being written by an ingest; try again in a few seconds")
