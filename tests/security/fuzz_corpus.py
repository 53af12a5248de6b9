"""Build a corpus of malformed ingest files from the real BACI sample in ../shared/data (never checked in).

``build(shared, out, n_rows=40) -> list[Case]``: every case is one file in ``out`` made from the first
``n_rows`` rows of ``baci_sample.csv`` by one deterministic mutation (seeded), with what the ingest must do:

- ``reject``: the file as a whole is unusable (binary, empty, no header, missing columns, another encoding,
  a field beyond the CSV limit, ...) → a one-line :class:`~tradepulse.errors.TradepulseError`, or a load of
  0 rows;
- ``any``: a valid file in another dialect (semicolons) → loads, or a one-line error;
- ``quarantine``: some rows are garbage (text in numbers, impossible years, unknown country codes, negative
  or infinite values, ...) → an error, or a load that quarantines at least one row.

Run as a script to write the corpus somewhere and print the counts per mutation::

    python tests/security/fuzz_corpus.py ../shared/data /tmp/fuzz
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    path: Path
    mutation: str
    expect: str          # reject | quarantine


def _rows(shared: Path, n: int) -> tuple[str, list[list[str]]]:
    lines = (shared / "baci_sample.csv").read_text(encoding="utf-8").splitlines()
    return lines[0], [ln.split(",") for ln in lines[1:n + 1]]


def _join(header: str, rows: list[list[str]]) -> str:
    return header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"


#: The mutations, in the order :func:`build` writes them.
MUTATIONS = ("empty", "binary", "header-only", "no-header", "missing-column", "utf16", "nul-bytes", "huge-field",
             "garbage-text", "semicolons", "text-in-value", "bad-year", "unknown-country", "bad-product",
             "negative-value", "infinite-value", "empty-key", "ragged-row", "truncated", "latin1")


def build(shared: str | Path, out: str | Path, n_rows: int = 20, per_mutation: int = 16,
          only: str | None = None) -> list[Case]:
    """Write the corpus (``per_mutation`` seeded variants of each mutation, each from its own slice of the
    sample so that no variant repeats another's rows) and return its cases; ``only``: one mutation."""
    shared, out = Path(shared), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    all_header, all_rows = _rows(shared, n_rows * (per_mutation + 1) * len(MUTATIONS))
    cases: list[Case] = []
    slot = 0

    def emit(name: str, k: int, body: bytes, expect: str) -> None:
        if only is None or name == only:
            p = out / f"{name}-{k:02d}.csv"
            p.write_bytes(body)
            cases.append(Case(p, name, expect))

    def cell(rng: random.Random, col: int, value: str, count: int = 1) -> bytes:
        rs = [list(r) for r in rows]
        for i in rng.sample(range(len(rs)), count):
            rs[i][col] = value
        return _join(header, rs).encode()

    for k in range(per_mutation):
        rng = random.Random(1000 + k)
        header = all_header
        slot += 1
        rows = all_rows[slot * n_rows * len(MUTATIONS):][:n_rows]      # fresh rows for this variant…
        good = _join(header, rows).encode()
        # ---- whole-file garbage: reject
        emit("empty", k, b"" if k % 2 == 0 else b"\n" * (k + 1), "reject")
        emit("binary", k, bytes(rng.randrange(256) for _ in range(200 + 50 * k)), "reject")
        emit("header-only", k, (header + "\n").encode(), "reject")
        emit("no-header", k, good.split(b"\n", 1)[1], "reject")
        cols = header.split(",")
        drop = cols[k % 5]                                   # t, i, j, k, v are required (q is optional)
        emit("missing-column", k, _join(",".join(c for c in cols if c != drop),
                                        [[v for c, v in zip(cols, r) if c != drop] for r in rows]).encode(), "reject")
        emit("utf16", k, _join(header, rows).encode("utf-16" if k % 2 else "utf-16-le"), "reject")
        emit("nul-bytes", k, good[:50 + 7 * k] + b"\x00" * (k + 1) + good[50 + 7 * k:], "quarantine")
        if k < 2:                        # slow to refuse (about 10 s each): two variants are enough
            emit("huge-field", k, (header + "\n" + "2021,4,24," + "9" * (140_000 + k) + ",1,1\n").encode(),
                 "reject")
        emit("garbage-text", k, "".join(rng.choice("abc,\"\n\r;'é€") for _ in range(300 + 20 * k)).encode(),
             "reject")
        # ---- a valid file in another dialect: loads, or is refused with one line
        emit("semicolons", k, good.replace(b",", b";"), "any")
        # ---- row-level garbage: quarantine (or reject)
        rows = all_rows[slot * n_rows * len(MUTATIONS) + n_rows:][:n_rows]   # … and for the row-level ones
        emit("text-in-value", k, cell(rng, 4, rng.choice(["abc", "1e", "--5", "NaNx", "1,2", "$5"]), 1 + k % 3),
             "quarantine")
        emit("bad-year", k, cell(rng, 0, rng.choice(["0", "-2021", "99999", "20x1", "1066", "3000"]), 1 + k % 3),
             "quarantine")
        emit("unknown-country", k, cell(rng, 1 + k % 2, rng.choice(["99999", "-4", "x", "1.5", "77777"]), 1 + k % 3),
             "quarantine")
        emit("bad-product", k, cell(rng, 3, rng.choice(["ABCDEF", "-1", "12", "1234567890", "x1"]), 1 + k % 3),
             "quarantine")
        emit("negative-value", k, cell(rng, 4, rng.choice(["-1", "-0.5", "-1e9"]), 1 + k % 3), "quarantine")
        emit("infinite-value", k, cell(rng, 4, rng.choice(["inf", "-inf", "1e999", "nan", "Infinity"]), 1 + k % 3),
             "quarantine")
        emit("empty-key", k, cell(rng, k % 4, "", 1 + k % 3), "quarantine")
        rs = [list(r) for r in rows]
        rs[rng.randrange(len(rs))].append("extra")
        emit("ragged-row", k, _join(header, rs).encode(), "quarantine")
        cut = rng.randrange(len(header) + 20, len(good) - 5)
        emit("truncated", k, good[:cut] + b'"unterminated', "quarantine")
        emit("latin1", k, cell(rng, 5, "\"  1\xe9\"").decode("utf-8").encode("latin-1"), "quarantine")
    return cases


if __name__ == "__main__":
    made = build(sys.argv[1], sys.argv[2])
    from collections import Counter
    print(len(made), "files:", dict(Counter(c.mutation for c in made)))
