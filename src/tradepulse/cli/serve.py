"""CLI command: ``tradepulse serve`` — the web dashboard and JSON API (FastAPI on uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tradepulse.cli.common import console, friendly_errors


def _seed_demo_groups(warehouse: Path, url: str) -> None:
    """On a demo warehouse (``demo_summary.json`` beside it) with no working-group database file yet, seed
    the SYNTHETIC demo groups and users so that the dashboard can be tried at once; print the logins."""
    if not (warehouse.parent / "demo_summary.json").exists() or not url.startswith("sqlite:///"):
        return
    db = Path(url.removeprefix("sqlite:///"))
    if db.exists():
        return
    from tradepulse.demo.provinces import provinces
    from tradepulse.groups.seed import DEMO_USERS, seed_demo

    seed_demo(url, provinces=tuple(provinces()["name_en"].head(5)))
    logins = ", ".join(f"{u} / {p} ({r})" for u, p, r in DEMO_USERS)
    console.print(f"[yellow]Seeded SYNTHETIC demo working groups in {db}; demo logins: {logins}[/]")


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""

    @app.command()
    @friendly_errors
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (127.0.0.1 = this machine only)."),
        port: int = typer.Option(8000, "--port", "-p", min=1, max=65535),
        warehouse: Optional[Path] = typer.Option(None, "--warehouse", "-w",
                                                 help="DuckDB warehouse file, opened read-only "
                                                      "(default: $TRADEPULSE_WAREHOUSE or ~/.tradepulse/warehouse.duckdb)."),
        groups_db: Optional[str] = typer.Option(None, "--groups-db",
                                                help="Working-group database: SQLAlchemy URL or SQLite file path "
                                                     "(default: $TRADEPULSE_GROUPS_DB or ~/.tradepulse/groups.sqlite)."),
        secret_key: Optional[str] = typer.Option(None, "--secret-key", envvar="TRADEPULSE_SECRET_KEY",
                                                 help="Key signing session cookies (default: random per start)."),
        focus: Optional[str] = typer.Option(None, "--focus", help="Focus country ISO3 (default: $TRADEPULSE_FOCUS or IRN)."),
        public_indicators: bool = typer.Option(True, "--public-indicators/--no-public-indicators",
                                               help="Indicator pages open to anonymous visitors (default) or "
                                                    "behind the login; working-group data always needs a login."),
        smtp_url: Optional[str] = typer.Option(None, "--smtp-url", envvar="TRADEPULSE_SMTP_URL",
                                               help="SMTP server for sending agendas and briefs: "
                                                    "smtp://[user:pw@]host[:port][?starttls=1&from=addr] or smtps://…"),
    ) -> None:
        """Run the dashboard (pages, CSV/Excel downloads, JSON API at /api/v1, OpenAPI at /docs)."""
        import uvicorn

        from tradepulse.config import DEFAULT_FOCUS, default_groups_url, default_warehouse_path
        from tradepulse.errors import TradepulseError
        from tradepulse.web.app import create_app

        wh = warehouse or default_warehouse_path()
        if not Path(wh).exists():
            raise TradepulseError(f"no warehouse at {wh}; run `tradepulse demo` or `tradepulse ingest` first")
        url = groups_db or default_groups_url()
        url = url if "://" in url else f"sqlite:///{Path(url).expanduser().resolve()}"
        _seed_demo_groups(Path(wh), url)
        app_ = create_app(wh, url, secret_key, focus=(focus or DEFAULT_FOCUS).upper(),
                          public_indicators=public_indicators, smtp_url=smtp_url)
        shown = f"[{host}]" if ":" in host else host
        console.print(f"[bold green]tradepulse dashboard[/] on [link]http://{shown}:{port}/[/link] "
                      f"(warehouse {wh}; Ctrl+C stops)", soft_wrap=True)
        uvicorn.run(app_, host=host, port=port, log_level="warning")
