"""Formulas shown on the pages, as presentation MathML (rendered natively by every current browser, so
nothing is vendored; docs/decisions.md).  Symbols follow the indicator modules' docstrings."""

from __future__ import annotations

from markupsafe import Markup


def _frac(num: str, den: str) -> str:
    return f"<mfrac><mrow>{num}</mrow><mrow>{den}</mrow></mfrac>"


def _sub(base: str, sub: str) -> str:
    return f"<msub><mi>{base}</mi><mrow>{sub}</mrow></msub>"


def _math(body: str, label: str) -> Markup:
    return Markup(f'<math display="block" aria-label="{label}"><mrow>{body}</mrow></math>')


#: Trade complementarity (Michaely 1996): TC_ij = 100 · (1 − ½ Σ_k |m_jk/M_j − x_ik/X_i|).
COMPLEMENTARITY = _math(
    _sub("TC", "<mi>i</mi><mi>j</mi>") + "<mo>=</mo><mn>100</mn><mo>·</mo><mo>(</mo><mn>1</mn><mo>−</mo>"
    + _frac("<mn>1</mn>", "<mn>2</mn>") + "<munder><mo>∑</mo><mi>k</mi></munder><mo>|</mo>"
    + _frac(_sub("m", "<mi>j</mi><mi>k</mi>"), _sub("M", "<mi>j</mi>")) + "<mo>−</mo>"
    + _frac(_sub("x", "<mi>i</mi><mi>k</mi>"), _sub("X", "<mi>i</mi>")) + "<mo>|</mo><mo>)</mo>",
    "TC_ij = 100 (1 - 1/2 sum_k |m_jk/M_j - x_ik/X_i|)")

#: Trade intensity (Brown 1949, Kojima 1964): TI_ij = (x_ij / X_i) / (x_wj / X_w).
INTENSITY = _math(
    _sub("TI", "<mi>i</mi><mi>j</mi>") + "<mo>=</mo>"
    + _frac(_sub("x", "<mi>i</mi><mi>j</mi>") + "<mo>/</mo>" + _sub("X", "<mi>i</mi>"),
            _sub("x", "<mi>w</mi><mi>j</mi>") + "<mo>/</mo>" + _sub("X", "<mi>w</mi>")),
    "TI_ij = (x_ij/X_i) / (x_wj/X_w)")

#: Herfindahl–Hirschman index of export shares s_k.
HHI = _math("<mi>HHI</mi><mo>=</mo><munder><mo>∑</mo><mi>k</mi></munder><msubsup><mi>s</mi><mi>k</mi><mn>2</mn>"
            "</msubsup>", "HHI = sum_k s_k^2")

#: Kaplan–Meier estimator.
KAPLAN_MEIER = _math(
    "<mover><mi>S</mi><mo>^</mo></mover><mo>(</mo><mi>t</mi><mo>)</mo><mo>=</mo><munder><mo>∏</mo><mrow>"
    + _sub("t", "<mi>i</mi>") + "<mo>≤</mo><mi>t</mi></mrow></munder><mo>(</mo><mn>1</mn><mo>−</mo>"
    + _frac(_sub("d", "<mi>i</mi>"), _sub("n", "<mi>i</mi>")) + "<mo>)</mo>",
    "S(t) = prod_{t_i <= t} (1 - d_i/n_i)")
