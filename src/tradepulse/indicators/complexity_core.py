"""The NumPy core of :mod:`tradepulse.indicators.complexity`: one year's dense country × product matrix →
RCA, M, diversity, ubiquity, ECI/PCI, density, COI/COG (and PRODY/EXPY).  Formulas, conventions and
references: the docstring of :mod:`tradepulse.indicators.complexity` and ``docs/complexity.md``.

Kept apart from the pandas input handling so a caller with arrays (``complexity FILE`` on its Arrow path,
issue 19) imports NumPy (and SciPy's Lanczos solver when a side has more than 64 entries) but not pandas.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tradepulse.errors import InputError, NoDataError, UnknownNameError

CONVENTIONS = ("py", "stata")
COG_FORMS = ("ecomplexity", "atlas")

_BLOCK_BYTES = 32 * 2**20   # size of one product-block of the proximity matrix (memory bound)


# --------------------------------------------------------------------------- options
@dataclass(frozen=True)
class Options:
    """Options of :func:`complexity` (see the module docstring for each convention)."""

    threshold: float = 1.0
    convention: str = "py"          # py | stata: ddof of the normalisation
    diagonal: float | None = None   # proximity diagonal; None → 1 for "py", 0 for "stata"
    cog_form: str = "ecomplexity"   # ecomplexity | atlas
    continuous: bool = False
    asymmetric: bool = False        # py-ecomplexity asymmetric proximity φ_pp' = C_pp' / k_p

    def __post_init__(self):
        if self.convention not in CONVENTIONS:
            raise UnknownNameError("convention", self.convention, list(CONVENTIONS))
        if self.cog_form not in COG_FORMS:
            raise UnknownNameError("COI/COG form", self.cog_form, list(COG_FORMS))
        if not np.isfinite(self.threshold) or self.threshold <= 0:
            raise InputError(f"RCA threshold must be a positive number, not {self.threshold}")

    @property
    def diag(self) -> float:
        if self.diagonal is not None:
            return float(self.diagonal)
        return 0.0 if self.convention == "stata" else 1.0


def _single_thread_blas():
    """Run BLAS single-threaded: the products here are small (N_c × N_c blocks), and a multi-threaded
    OpenBLAS on a busy 2-core machine spends up to 40× longer spinning than computing (measured).
    Uses ``threadpoolctl`` when installed; otherwise a no-op."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# --------------------------------------------------------------------------- the core (one year)
def _rca(x: np.ndarray) -> np.ndarray:
    """Balassa RCA of a dense country × product matrix with positive row and column sums."""
    xc = x.sum(axis=1)
    xp = x.sum(axis=0)
    return (x / xc[:, None]) / (xp / xc.sum())[None, :]


def _eig2(m: np.ndarray, kc: np.ndarray, kp: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Raw (unnormalised) country and product vectors of the 2nd eigenvalue of the complexity matrices.

    Returns ``kc, kp, λ2, λ3`` where ``kc = D_c⁻¹ M kp`` exactly (so the Stata/py normalisation applies).
    Symmetric form of the smaller side: ``S = A Aᵀ`` (countries) or ``AᵀA`` (products) with
    ``A = D_c^{-1/2} M D_p^{-1/2}``; eigenvalues of S equal those of the complexity matrices.
    """
    a = m * (1.0 / np.sqrt(kc))[:, None] * (1.0 / np.sqrt(kp))[None, :]
    country_side = a.shape[0] <= a.shape[1]
    s = a @ a.T if country_side else a.T @ a
    vals, vecs = _top_eigen(s)
    v = vecs[:, -2]
    lam2 = float(vals[-2])
    lam3 = float(vals[-3]) if len(vals) >= 3 else float("nan")
    if country_side:
        kc_vec = v / np.sqrt(kc)
        kp_vec = (m.T @ kc_vec) / kp
    else:
        kp_vec = v / np.sqrt(kp)
    kc_vec = (m @ kp_vec) / kc
    if float(vals[-1]) - lam2 < 1e-10:
        warnings.warn("the country-product network is disconnected (the largest eigenvalue 1 is repeated): "
                      "ECI/PCI are not unique", RuntimeWarning, stacklevel=3)
    return kc_vec, kp_vec, lam2, lam3


#: Largest matrix solved by dense LAPACK ``eigh`` (NumPy) rather than Lanczos: the smaller side is the
#: countries (≈ 230) in practice, where ``eigh`` takes ≈ 15 ms and spares importing SciPy's sparse stack
#: (≈ 0.3 s of a one-year ``complexity FILE``, issue 19).
DENSE_EIGEN_MAX = 512


def _top_eigen(s: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenpairs (ascending) of a symmetric PSD matrix: dense LAPACK ``eigh``
    (``numpy.linalg.eigh``) for n ≤ :data:`DENSE_EIGEN_MAX`, ARPACK Lanczos (``scipy.sparse.linalg.eigsh``,
    tol 0 = machine precision) above, or when Lanczos does not converge.  Lanczos needs only mat-vecs, so
    on a large side it is fast and does not suffer from BLAS-thread contention on a busy machine the way
    the dense tridiagonal reduction does."""
    n = s.shape[0]
    if n > DENSE_EIGEN_MAX:
        import scipy.sparse.linalg as sla
        try:
            v0 = np.linspace(1.0, 2.0, n)   # deterministic start
            vals, vecs = sla.eigsh(s, k=k, which="LA", v0=v0, tol=0)
            order = np.argsort(vals)
            return vals[order], vecs[:, order]
        except (sla.ArpackNoConvergence, sla.ArpackError):
            pass
    vals, vecs = np.linalg.eigh(s)
    return vals[-k:], vecs[:, -k:]


def _sd(v: np.ndarray, opts: Options, n_rows_each: int) -> tuple[float, float]:
    """Mean and sd used for standardisation: ddof 0 over entries (py) or Stata's rectangular-rows sd."""
    mean = float(v.mean())
    if opts.convention == "stata":
        n = v.size * n_rows_each
        sd = float(np.sqrt(n_rows_each * ((v - mean) ** 2).sum() / (n - 1)))
    else:
        sd = float(v.std())
    return mean, sd


def _proximity_blocks(m: np.ndarray, kp: np.ndarray, diag: float, rca: np.ndarray | None = None,
                      block: int | None = None, asymmetric: bool = False):
    """Yield ``(cols, φ[:, cols])`` column blocks of the symmetric proximity matrix.

    Discrete: ``φ = MᵀM / max(k_p, k_p')`` (co-occurrence counts in float32 — exact integers — then
    float64).  Continuous (``rca`` given): ``φ = (1 + corr(RCA_p, RCA_p')) / 2`` (py-ecomplexity).
    """
    n_p = m.shape[1]
    if block is None:
        block = max(1, min(n_p, _BLOCK_BYTES // (8 * max(n_p, 1))))
    if rca is None:
        m32 = m.astype(np.float32)
    else:
        z = rca - rca.mean(axis=0)
        z /= np.sqrt((z ** 2).sum(axis=0))
    for start in range(0, n_p, block):
        cols = slice(start, min(start + block, n_p))
        if rca is None:
            c = (m32.T @ m32[:, cols]).astype(np.float64)
            # asymmetric (py-ecomplexity): φ[p1, p2] = C / k_p1, with p1 = the block's column
            phi = c / (kp[None, cols] if asymmetric else np.maximum(kp[:, None], kp[None, cols]))
        else:
            phi = (1.0 + z.T @ z[:, cols]) / 2.0
        idx = np.arange(cols.start, cols.stop)
        phi[idx, idx - cols.start] = diag
        yield cols, phi


class _ByUbiquity:
    """``a @ φ`` for the discrete proximity ``φ_p'p = C_p'p / max(k_p', k_p)``, ``C = MᵀM``, diagonal
    ``diag`` — without forming the P × P matrix φ.

    Split by ubiquity: for a product p of ubiquity k, ``Σ_p' a_p' φ_p'p = (1/k) Σ_{k_p' ≤ k} a_p' C_p'p +
    Σ_{k_p' > k} (a_p'/k_p') C_p'p`` and ``Σ_p' a_p' C_p'p = (a_S M_Sᵀ) M[:, p]`` over a product set S.  So
    with the products grouped by ubiquity level L (at most N_c levels), a prefix sum of the small
    ``rows × N_c`` matrices ``G_L = a_L M_Lᵀ`` and a suffix sum of ``G_L / k_L`` give every column with
    ``O(rows·N_c·N_p)`` flops instead of ``O(rows·N_p²)`` (230 × 5,000: ~20× fewer, no 200 MB matrix).
    The loop runs over ubiquity levels (BLAS-3 products on groups of products), not over products.
    Works in "sorted-transposed" layout: products sorted by ubiquity, as rows (``P × rows`` arrays).
    """

    def __init__(self, m: np.ndarray, kp: np.ndarray):
        self.levels, inv = np.unique(kp, return_inverse=True)
        self.order = np.argsort(inv, kind="stable")
        bounds = np.searchsorted(inv[self.order], np.arange(len(self.levels) + 1))
        self.spans = [slice(bounds[i], bounds[i + 1]) for i in range(len(self.levels))]
        self.m_t = np.ascontiguousarray(m[:, self.order].T, dtype=np.float32)   # P × N_c, sorted; 0/1 exact

    def times_phi_t(self, a_t: np.ndarray, diag: float) -> np.ndarray:
        """``(a @ φ)ᵀ`` in sorted layout for ``a_t`` (P × R, sorted)."""
        m_t = self.m_t
        out_t = np.empty((m_t.shape[0], a_t.shape[1]))
        prefix = np.zeros((m_t.shape[1], a_t.shape[1]))
        for lev, sl in zip(self.levels, self.spans):            # ascending: k_p' <= k_p, divide by k_p
            prefix += m_t[sl].T @ a_t[sl]
            np.matmul(m_t[sl], prefix / lev, out=out_t[sl])
        suffix = np.zeros_like(prefix)
        for lev, sl in zip(self.levels[::-1], self.spans[::-1]):  # descending: k_p' > k_p, divide by k_p'
            out_t[sl] += m_t[sl] @ suffix
            suffix += m_t[sl].T @ (a_t[sl] / lev)
        if diag != 1.0:                                          # the formula has φ_pp = k_p / k_p = 1
            out_t += (diag - 1.0) * a_t
        return out_t


#: Fewest country × product cells for which :func:`_year` computes the density and COG of two halves of the
#: countries in two threads (NumPy's BLAS products release the GIL; each runs single-threaded BLAS, so the
#: CPU time is the same and the wall time of that part — ≈ 60 % of a year's computation — halves on 2 cores).
THREADED_CELLS = 200_000


def _split_countries(work: Callable[[slice], None], n_c: int, n_p: int) -> None:
    """``work(rows)`` over all countries: one call for a small year; for a large one, two halves — in two
    threads when there are two CPUs, else one after the other (the same halves, so the same floating-point
    results on any machine: BLAS may sum a half's columns in another order than the whole's, ≈ 1e-15)."""
    import os

    if n_c < 2 or n_c * n_p < THREADED_CELLS:
        work(slice(0, n_c))
        return
    half = n_c // 2
    if (os.cpu_count() or 1) < 2:
        work(slice(0, half))
        work(slice(half, n_c))
        return
    import threading

    failed: list[BaseException] = []

    def second() -> None:
        try:
            work(slice(half, n_c))
        except BaseException as exc:   # re-raised in the caller's thread
            failed.append(exc)

    helper = threading.Thread(target=second, name="tradepulse-complexity")
    helper.start()
    try:
        work(slice(0, half))
    finally:
        helper.join()
    if failed:
        raise failed[0]


def _year(x: np.ndarray, opts: Options, gdp_pc: np.ndarray | None = None,
          buf: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """All indicators for one year's dense exports matrix ``x`` (countries × products, totals > 0).

    ``buf`` may hold preallocated N_c × N_p arrays ``rca``, ``density``, ``cog`` to write into."""
    n_c, n_p = x.shape
    if n_c < 2 or n_p < 2:
        raise NoDataError(f"complexity needs at least 2 countries and 2 products with exports "
                          f"(got {n_c} × {n_p})")
    buf = buf or {}
    xc = x.sum(axis=1)
    xp = x.sum(axis=0)
    rca = np.divide(x, xc[:, None], out=buf.get("rca"))
    rca /= (xp / xc.sum())[None, :]
    m = (rca >= opts.threshold).astype(np.float64)
    kc = m.sum(axis=1)
    kp = m.sum(axis=0)
    if (kc == 0).any() or (kp == 0).any():   # only possible with a threshold above 1
        raise NoDataError(f"with RCA threshold {opts.threshold} some countries or products have no "
                          "product/exporter with M = 1; lower the threshold")
    kc_raw, kp_raw, _, _ = _eig2(m, kc, kp)
    if np.corrcoef(kc, kc_raw)[0, 1] < 0:
        kc_raw, kp_raw = -kc_raw, -kp_raw
    mean_e, sd_e = _sd(kc_raw, opts, n_p)
    if not sd_e > 0:
        raise NoDataError("ECI is undefined: every country has the same raw complexity (degenerate M)")
    eci = (kc_raw - mean_e) / sd_e
    pci = (kp_raw - mean_e) / sd_e

    # product space: den_p = Σ_p' φ_p'p (φ symmetric, so column sums = row sums)
    density = buf["density"] if "density" in buf else np.empty((n_c, n_p))
    cog = buf["cog"] if "cog" in buf else np.empty((n_c, n_p))
    w_vec = kp_raw if opts.cog_form == "ecomplexity" else pci
    if opts.asymmetric and not opts.continuous:
        # φ_pp' = C_pp'/k_p (py-ecomplexity ``asymmetric``): everything factorises through C = MᵀM,
        # density = [(M Mᵀ M) + (d-1) k_p M] / [Σ_q C_pq + (d-1) k_p]; COG's row sums likewise.
        dd = opts.diag - 1.0
        row = kc @ m                                            # Σ_q C_pq
        den_a = row + dd * kp
        np.matmul(m @ m.T, m, out=density)
        density += dd * kp[None, :] * m
        density /= den_a[None, :]
        v = w_vec / den_a
        weighted = (1.0 - m) * v[None, :]
        np.matmul(weighted @ m.T, m, out=cog)
        cog += dd * weighted * kp[None, :]
        del weighted
    elif opts.continuous:
        den = np.empty(n_p)
        for cols, phi in _proximity_blocks(m, kp, opts.diag, rca):
            den[cols] = phi.sum(axis=0)
            density[:, cols] = (rca @ phi) / den[cols][None, :]
        weighted = (1.0 - m) * (w_vec / den)[None, :]
        for cols, phi in _proximity_blocks(m, kp, opts.diag, rca):
            cog[:, cols] = weighted @ phi
        del weighted
    else:
        lv = _ByUbiquity(m, kp)
        del m                                                    # only the sorted copy is needed now
        den_t = lv.times_phi_t(np.ones((n_p, 1)), opts.diag)[:, 0]
        v_t = (w_vec[lv.order] / den_t)[:, None]

        def countries(rows: slice) -> None:
            """density and the COG gain of some countries (each country's column is computed on its own)."""
            m_t = lv.m_t[:, rows]
            num_t = lv.times_phi_t(m_t, opts.diag)
            num_t /= den_t[:, None]
            density[rows, lv.order] = num_t.T
            weighted_t = num_t                                   # reuse the buffer: (1 - M) w, sorted
            np.subtract(1.0, m_t, out=weighted_t, dtype=np.float64)
            weighted_t *= v_t
            cog[rows, lv.order] = lv.times_phi_t(weighted_t, opts.diag).T

        _split_countries(countries, n_c, n_p)
        del lv
    # cog now holds the gain Σ_p' (1-M_cp') w_p' φ_p'p / den_p'
    not_m = (rca < opts.threshold).astype(np.float64)
    if opts.cog_form == "ecomplexity":
        coi_raw = np.einsum("cp,cp,p->c", density, not_m, kp_raw)
        mean_o, sd_o = _sd(coi_raw, opts, n_p)
        if sd_o > 0:
            coi = (coi_raw - mean_o) / sd_o
        else:   # every country has the same outlook (e.g. all M = 1): standardised COI is 0
            coi = np.zeros_like(coi_raw)
        cog *= not_m
        cog /= sd_e
    else:
        coi = np.einsum("cp,cp,p->c", density, not_m, pci)
        cog -= density * pci[None, :]
        cog *= not_m

    out = {"rca": rca, "m": rca >= opts.threshold, "diversity": kc, "ubiquity": kp, "eci": eci, "pci": pci,
           "density": density, "coi": coi, "cog": cog}
    if gdp_pc is not None:
        share = x / x.sum(axis=1, keepdims=True)
        known = np.isfinite(gdp_pc)
        if not known.any():
            raise NoDataError("no GDP per capita for any exporter of the year; PRODY needs some")
        sk = share[known]
        prody = (sk / sk.sum(axis=0, keepdims=True)).T @ gdp_pc[known]
        out["prody"] = prody
        out["expy"] = share @ prody
    return out


# --------------------------------------------------------------------------- a panel, year by year
FLOAT_COLUMNS = ["export_value", "rca", "eci", "pci", "density", "coi", "cog"]


def _unique_small(codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(codes, return_inverse=True)`` for codes in ``[0, n)``: by counting, O(len + n), no sort."""
    used = np.bincount(codes, minlength=n) > 0
    rank = np.cumsum(used) - 1
    return np.flatnonzero(used), rank[codes]


def panel_arrays(ci: np.ndarray, pi: np.ndarray, year_values: np.ndarray, values: np.ndarray, n_countries: int,
                 n_products: int, present: Callable[[object], int], opts: Options, *,
                 gdp_all: np.ndarray | None = None, progress=None) -> dict:
    """Every year of a panel given as positive-value rows: ``ci``/``pi`` the rows' country/product codes
    (indices into the sorted labels, ``n_countries``/``n_products`` of them), ``year_values``, ``values``
    (> 0), ``present(year)`` the number of exporters of the year before zero rows were dropped (for the
    "left out" warning), ``gdp_all`` a GDP per capita per row (→ PRODY/EXPY).

    Each year's indicators are written straight into preallocated output columns (no per-year tables, no
    concatenation copy: a 25-year HS6 panel needs the output's memory once).  Returns ``block`` (float
    columns × rows, names in ``float_cols``), ``year``, ``exporter``/``product`` (codes), ``m``,
    ``diversity``, ``ubiquity``: one row per (year, country, product) of each year's rectangular table."""
    if len(year_values) and year_values.min() == year_values.max():   # one year: no sort needed
        years, order = year_values[:1].copy(), None                # the rows as they are: slices, no gathers
        bounds = np.array([0, len(year_values)])
    else:
        years, yi = np.unique(year_values, return_inverse=True)
        order = np.argsort(yi, kind="stable").astype(np.int32 if len(yi) < 2**31 else np.int64)
        bounds = np.searchsorted(yi[order], np.arange(len(years) + 1))
        del yi
    with_prody = gdp_all is not None

    def year_rows(k):
        return slice(bounds[k], bounds[k + 1]) if order is None else order[bounds[k]:bounds[k + 1]]

    kept: dict = {}   # one year: its codes, computed once (several: recomputed, not all kept in memory)

    def year_codes(k):
        if k in kept:
            return kept.pop(k)
        rows = year_rows(k)
        uc, lc = _unique_small(ci[rows], n_countries)
        up, lp = _unique_small(pi[rows], n_products)
        return rows, uc, lc, up, lp

    dims = []
    for k, y in enumerate(years):                               # sizes first (labels recomputed below)
        if len(years) == 1:
            kept[k] = year_codes(k)
            n_c, n_p = len(kept[k][1]), len(kept[k][3])
        else:
            rows = year_rows(k)
            n_c = int(np.count_nonzero(np.bincount(ci[rows], minlength=n_countries)))
            n_p = int(np.count_nonzero(np.bincount(pi[rows], minlength=n_products)))
        dims.append((n_c, n_p))
        dropped = present(y) - n_c
        if dropped:
            warnings.warn(f"year {y}: {dropped} exporters with zero total exports left out", RuntimeWarning,
                          stacklevel=4)
    sizes = np.array([a * b for a, b in dims], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    n = int(starts[-1])
    float_cols = FLOAT_COLUMNS + (["prody", "expy"] if with_prody else [])
    block = np.empty((len(float_cols), n))
    small = np.issubdtype(years.dtype, np.integer) and years.min() >= 0 and years.max() < 2**15
    year_col = np.empty(n, dtype=np.int16 if small else years.dtype)   # SMALLINT like schema.FLOWS

    def _int(limit: int):
        return np.int16 if limit < 2**15 else np.int32
    exp_codes = np.empty(n, dtype=_int(n_countries))
    prod_codes = np.empty(n, dtype=_int(n_products))
    m_col = np.empty(n, dtype=np.int8)
    div_col = np.empty(n, dtype=_int(n_products + 1))
    ubi_col = np.empty(n, dtype=_int(n_countries + 1))
    with _single_thread_blas():
        for k, y in enumerate(years):
            rows, uc, lc, up, lp = year_codes(k)
            n_c, n_p = len(uc), len(up)
            sl = slice(starts[k], starts[k + 1])
            b = block[:, sl].reshape(len(float_cols), n_c, n_p)   # views into the output block
            assert np.shares_memory(b, block)
            x = b[0]
            x[:] = 0.0
            x[lc, lp] = values[rows]
            gdp = None
            if with_prody:
                gdp = np.full(n_c, np.nan)
                gdp[lc] = gdp_all[rows]
            try:
                r = _year(x, opts, gdp, buf={"rca": b[1], "density": b[4], "cog": b[6]})
            except NoDataError as exc:
                raise NoDataError(f"year {y}: {exc}") from None
            b[2] = r["eci"][:, None]
            b[3] = r["pci"][None, :]
            b[5] = r["coi"][:, None]
            if with_prody:
                b[7] = r["prody"][None, :]
                b[8] = r["expy"][:, None]
            year_col[sl] = y
            exp_codes[sl].reshape(n_c, n_p)[:] = uc[:, None]
            prod_codes[sl].reshape(n_c, n_p)[:] = up[None, :]
            m_col[sl].reshape(n_c, n_p)[:] = r["m"]
            div_col[sl].reshape(n_c, n_p)[:] = r["diversity"][:, None]
            ubi_col[sl].reshape(n_c, n_p)[:] = r["ubiquity"][None, :]
            if progress is not None:
                progress(k + 1, len(years), y)
    return {"block": block, "float_cols": float_cols, "year": year_col, "exporter": exp_codes,
            "product": prod_codes, "m": m_col, "diversity": div_col, "ubiquity": ubi_col}
