"""CLI command: ``tradepulse serve`` — the web dashboard and JSON API (FastAPI on uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tradepulse.cli.common import console, engine_options, friendly_errors


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


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost`` (the only binds where plain-HTTP cookies stay local)."""
    import ipaddress
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: Help panels of ``serve`` (each its own table, so the long flag names of one do not squeeze the others' help).
_SECURITY, _NETWORK, _MAIL = "Security", "Network and limits", "Mail"


def register(app: typer.Typer) -> None:
    """Add this module's commands to app."""

    @app.command()
    @friendly_errors
    @engine_options
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", rich_help_panel=_NETWORK, help="Interface to bind (127.0.0.1 = this machine only)."),
        port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, rich_help_panel=_NETWORK),
        warehouse: Optional[Path] = typer.Option(None, "--warehouse", "-w",
                                                 help="DuckDB warehouse file, opened read-only "
                                                      "(default: $TRADEPULSE_WAREHOUSE, else warehouse.duckdb in ~/.tradepulse)."),
        groups_db: Optional[str] = typer.Option(None, "--groups-db",
                                                help="Working-group database: SQLAlchemy URL or SQLite file path "
                                                     "(default: $TRADEPULSE_GROUPS_DB, else groups.sqlite in ~/.tradepulse)."),
        secret_key: Optional[str] = typer.Option(None, "--secret-key", envvar="TRADEPULSE_SECRET_KEY",
                                                 help="Key signing session cookies (default: random per start)."),
        focus: Optional[str] = typer.Option(None, "--focus", help="Focus country ISO3 (default: $TRADEPULSE_FOCUS or IRN)."),
        secure_cookies: Optional[bool] = typer.Option(
            None, "--secure-cookies/--no-secure-cookies", rich_help_panel=_SECURITY,
            help="Send the session cookie only over HTTPS (default: on unless bound to loopback)."),
        trusted_proxy: list[str] = typer.Option(
            [], "--trusted-proxy", rich_help_panel=_NETWORK,
            help="Address of a reverse proxy whose X-Forwarded-For is believed (repeatable; default none)."),
        allowed_origin: list[str] = typer.Option(
            [], "--allowed-origin", rich_help_panel=_NETWORK, help="Extra origin (https://host) a form may be posted from (repeatable)."),
        per_client: int = typer.Option(3, "--per-client", min=1, max=100, rich_help_panel=_NETWORK,
                                       help="Uncached computations one client may run at a time (then 429)."),
        public_indicators: bool = typer.Option(True, "--public-indicators/--no-public-indicators", rich_help_panel=_SECURITY,
                                               show_default=False,
                                               help="Indicator pages open to anonymous visitors (default) or "
                                                    "behind the login (working-group data always needs a login)."),
        smtp_url: Optional[str] = typer.Option(None, "--smtp-url", rich_help_panel=_MAIL, envvar="TRADEPULSE_SMTP_URL",
                                               help="SMTP server for sending agendas and briefs: "
                                                    "smtp://host[:port] or smtps://host[:port], with user:pw@ before the host and "
                                                    "?starttls=1&from=addr after it when needed."),
    ) -> None:
        """Run the dashboard (pages, CSV/Excel downloads, JSON API at /api/v1, OpenAPI at /docs)."""
        import uvicorn

        from tradepulse.config import (
            DEFAULT_FOCUS,
            default_groups_url,
            default_warehouse_path,
        )
        from tradepulse.errors import TradepulseError
        from tradepulse.web.app import create_app

        wh = warehouse or default_warehouse_path()
        if not Path(wh).exists():
            raise TradepulseError(f"no warehouse at {wh}; run `tradepulse demo` or `tradepulse ingest` first")
        url = groups_db or default_groups_url()
        url = url if "://" in url else f"sqlite:///{Path(url).expanduser().resolve()}"
        _seed_demo_groups(Path(wh), url)
        if secure_cookies is None:
            secure_cookies = not is_loopback(host)
        app_ = create_app(wh, url, secret_key, focus=(focus or DEFAULT_FOCUS).upper(), https_only=secure_cookies,
                          trusted_proxies=trusted_proxy, allowed_origins=allowed_origin, per_client=per_client,
                          public_indicators=public_indicators, smtp_url=smtp_url)
        if not secure_cookies and not is_loopback(host):
            console.print("[yellow]warning: --no-secure-cookies on a non-loopback address: session cookies may "
                          "travel unencrypted; put the dashboard behind HTTPS[/]", soft_wrap=True)
        shown = f"[{host}]" if ":" in host else host
        console.print(f"[bold green]tradepulse dashboard[/] on [link]http://{shown}:{port}/[/link] "
                      f"(warehouse {wh}; Ctrl+C stops)", soft_wrap=True)
        import sys
        # page computations run in worker processes; the threads left (CSV import, agenda pages, sync routes)
        # still share the GIL with the event loop: a short switch interval (1 ms instead of 5) lets it answer
        # cached pages and static files between their bytecodes
        sys.setswitchinterval(0.001)
        uvicorn.run(app_, host=host, port=port, log_level="warning")
