"""Fuzz corpus (issue 15, "Done when"): ≥ 300 malformed ingest files built from ../shared/data by
:mod:`fuzz_corpus`, each loaded into a warehouse with :func:`tradepulse.ingest.ingest_file`.

For every file: no exception other than a one-line :class:`~tradepulse.errors.TradepulseError` (no
traceback); no silent acceptance of garbage (a whole-file garbage is refused or loads 0 rows; a file with
garbage rows is refused or quarantines at least one row); after every failure the warehouse is unchanged
(row count and value checksum of every table).  One test per mutation, so xdist spreads the corpus.
"""

from __future__ import annotations

import pytest

from .fuzz_corpus import MUTATIONS, build

pytestmark = pytest.mark.slow


def snapshot(wh) -> dict[str, tuple]:
    """Row count (and value sum where there is one) of every table of the warehouse."""
    out = {}
    tables = [r[0] for r in wh.raw.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
    for t in tables:
        cols = {r[0] for r in wh.raw.execute(f'DESCRIBE "{t}"').fetchall()}
        extra = ", sum(value_usd)" if "value_usd" in cols else ""
        out[t] = tuple(wh.raw.execute(f'SELECT count(*){extra} FROM "{t}"').fetchone())
    return out


def test_corpus_has_at_least_300_files(shared_data, tmp_path):
    cases = build(shared_data, tmp_path)
    assert len(cases) >= 300 and {c.mutation for c in cases} == set(MUTATIONS)


#: Ingest defects the corpus found (strict xfail, so a marker must go when its defect is fixed).  The one found
#: first — BACI values ``inf`` / ``1e999`` / ``nan`` loading as ±inf / NaN — is fixed (issue 14: quarantined).
KNOWN: dict[str, str] = {}


@pytest.mark.parametrize("mutation", [pytest.param(m, marks=pytest.mark.xfail(reason=KNOWN[m], strict=True))
                                      if m in KNOWN else m for m in MUTATIONS])
def test_malformed_files_fail_cleanly_and_leave_the_warehouse_unchanged(shared_data, tmp_path, mutation):
    from tradepulse.errors import TradepulseError
    from tradepulse.ingest import ingest_file
    from tradepulse.warehouse import Warehouse
    cases = build(shared_data, tmp_path / "corpus", only=mutation)
    assert cases
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        for case in cases:
            before = snapshot(wh)
            try:
                result = ingest_file(wh, case.path, "baci")
            except TradepulseError as exc:
                assert "\n" not in str(exc) and "Traceback" not in str(exc), (case.path.name, str(exc))
                assert snapshot(wh) == before, f"{case.path.name}: the warehouse changed after a failure"
                continue
            if case.expect == "reject":
                assert result.rows_loaded == 0, f"{case.path.name}: garbage loaded silently"
            elif case.expect == "quarantine":
                assert result.rows_quarantined > 0, f"{case.path.name}: garbage rows accepted silently"
