"""docs/real-data.md followed step by step: every command of its ``sh`` blocks runs, in order, against a local
server on 127.0.0.1 serving real public samples (../shared/data): the BACI 2021 sample as the release zip the
page names, Comtrade rows (annual partner totals, monthly totals) in the API's JSON shape, and World Bank GDP and
population for 2017.  ``csv`` blocks with a ``title="NAME"`` are written to NAME first (the page's example
layouts).  ``text`` blocks (installing the machine) are not run.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from pathlib import Path

import pytest
from test_fetch import LocalServer, baci_release_zip, comtrade_api_rows

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "real-data.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def doc_blocks() -> list[tuple[str, str, str]]:
    """(language, info string, body) of every fenced block of the page, in order."""
    return [(m.group(1), m.group(2), m.group(3)) for m in FENCE.finditer(DOC.read_text(encoding="utf-8"))]


def monthly_rows(shared_data) -> list[dict]:
    """Monthly rows of the Comtrade fixture in the API's JSON shape (exports, TOTAL)."""
    import pandas as pd

    df = pd.read_parquet(shared_data / "monthly_trade_comtrade_2014_2023.parquet")
    df = df[df["reporter"].isin(["TUR", "PAK"]) & (df["year"] == 2022)]
    return [{"typeCode": "C", "freqCode": "M", "refYear": int(r.year), "refMonth": int(r.month),
             "period": f"{r.year}{r.month:02d}", "reporterCode": int(r.reporter_code), "reporterISO": r.reporter,
             "flowCode": "X", "partnerCode": int(r.partner_code), "partnerISO": r.partner,
             "partner2Code": 0, "classificationCode": "HS", "cmdCode": "TOTAL", "customsCode": "C00",
             "motCode": 0, "netWgt": None, "primaryValue": float(r.value_usd), "isAggregate": True}
            for r in df.itertuples(index=False)]


def worldbank_rows(shared_data) -> dict[str, list[dict]]:
    """World Bank API rows for 2017 from the WDI extract in ../shared/data (aggregates included, as the API)."""
    import pandas as pd

    df = pd.read_csv(shared_data / "world_gdp_and_population_2017.csv")
    out: dict[str, list[dict]] = {"NY.GDP.MKTP.CD": [], "SP.POP.TOTL": []}
    for r in df.itertuples(index=False):
        for ind, v in (("NY.GDP.MKTP.CD", r.gdp_current_usd), ("SP.POP.TOTL", r.population_total)):
            out[ind].append({"indicator": {"id": ind}, "countryiso3code": r.iso3, "date": "2017",
                             "value": None if pd.isna(v) else float(v)})
    return out


@pytest.mark.slow
def test_real_data_page_runs_step_by_step(shared_data, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tradepulse.cli import app
    from tradepulse.warehouse import Warehouse

    blocks = doc_blocks()
    commands = [line.split("#")[0].strip() for lang, _, body in blocks if lang == "sh" for line in body.splitlines()]
    commands = [c for c in commands if c]
    assert all(c.startswith(("tradepulse ", "export ")) for c in commands), commands
    server = LocalServer()
    try:
        for c in commands:  # every BACI release the page fetches, named as CEPII names it
            m = re.search(r"fetch baci --release (\S+) --hs (\S+)", c)
            if m:
                server.files[f"/baci/BACI_{m.group(2)}_{m.group(1)}.zip"] = baci_release_zip(shared_data)
        server.comtrade_rows = comtrade_api_rows(shared_data) + monthly_rows(shared_data)
        server.worldbank = worldbank_rows(shared_data)
        env = {"HOME": str(tmp_path), "TRADEPULSE_BACI_URL": server.url + "/baci",
               "TRADEPULSE_COMTRADE_URL": server.url, "TRADEPULSE_WORLDBANK_URL": server.url}
        for var in ("COMTRADE_API_KEY", "TRADEPULSE_WAREHOUSE", "TRADEPULSE_GROUPS_DB", "TRADEPULSE_FOCUS",
                    "TRADEPULSE_HOME"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.chdir(tmp_path)
        for lang, info, body in blocks:
            title = re.search(r'title="([^"]+)"', info)
            if lang == "csv" and title:
                (tmp_path / title.group(1)).write_text(body, encoding="utf-8")
        runner = CliRunner()
        timings = []
        for c in commands:
            if c.startswith("export "):
                name, _, value = c[len("export "):].partition("=")
                env[name] = os.path.expandvars(value.replace("$HOME", env["HOME"]))
                continue
            t = time.perf_counter()
            res = runner.invoke(app, shlex.split(c)[1:], env=env)
            timings.append((c, time.perf_counter() - t))
            assert res.exit_code == 0, (c, res.output)
        home = Path(env["TRADEPULSE_HOME"])
        assert home.parent == tmp_path
        with Warehouse(home / "warehouse.duckdb", read_only=True) as wh:
            sources = dict(wh.raw.execute("SELECT source, count(*) FROM flows GROUP BY 1").fetchall())
            assert sources["baci"] == 71_192                                   # the whole sample year
            irn = [r for r in server.comtrade_rows if r["reporterISO"] == "IRN" and 2015 <= r["refYear"] <= 2018]
            monthly = [r for r in server.comtrade_rows if r["freqCode"] == "M" and r["partnerISO"] == "W00"]
            assert sources["comtrade"] == len(irn) + len(monthly)
            macro = dict(wh.raw.execute("SELECT source, count(*) FROM macro GROUP BY 1").fetchall())
            irn17 = wh.raw.execute("SELECT gdp_usd, population, source FROM macro WHERE iso3 = 'IRN' AND "
                                   "year = 2017").fetchall()
        wb = {r["countryiso3code"]: r["value"] for r in server.worldbank["NY.GDP.MKTP.CD"]}
        assert irn17 == [(wb["IRN"], 81_162_788.0, "worldbank")]     # replaced WDI's row (PROVENANCE.md figures)
        assert macro["wdi"] > 10_000 and macro["worldbank"] > 200
        for name in ("brief_en.pdf", "brief_fa.pdf"):
            assert (tmp_path / name).read_bytes()[:5] == b"%PDF-"
        assert (tmp_path / "layout-check.duckdb").exists()                    # layouts went to a scratch file
        print("\n".join(f"{s:6.1f} s  {c}" for c, s in timings))
    finally:
        server.close()


def test_readme_links_the_page_and_keeps_its_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/real-data.md" in readme
    block = re.search(r"```sh\n(.*?)```", readme, re.DOTALL).group(1)
    assert [line.split("#")[0].strip() for line in block.splitlines() if line.strip()] == ["make demo", "make test"]
