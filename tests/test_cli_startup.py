"""Start-up of the command line (issue 19): the lazy boundary, the command index and the Typer-free root help.

``tradepulse --help`` is drawn without Typer from ``tradepulse.cli._index`` (``tradepulse.cli._roothelp``); these
tests hold it to Typer's own bytes and hold the index to what the command modules register.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
HEAVY = ("pandas", "numpy", "pyarrow", "duckdb", "ibis", "scipy", "pydantic")


_TERMINAL = ("COLUMNS", "LINES", "FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "TERMINAL_WIDTH",
             "_TYPER_FORCE_DISABLE_TERMINAL", "NO_COLOR")


def _run(cmd: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """Run with this tree's sources and only the terminal settings given (none inherited)."""
    full = {k: v for k, v in os.environ.items() if k not in _TERMINAL}
    return subprocess.run(cmd, capture_output=True, env={**full, "PYTHONPATH": SRC, **(env or {})}, check=False)


def _py(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-c", code], env)


FAST = "import sys; sys.argv = ['tradepulse'] + sys.argv[1:]\nfrom tradepulse.cli import main\nmain()"
TYPER = ("import sys\nfrom tradepulse.cli import app\n"
         "app(sys.argv[1:], prog_name='tradepulse')")


def test_index_equals_what_the_modules_register():
    from tradepulse.cli import _index
    assert _index.COMMANDS == _index.generate(), \
        "regenerate with: PYTHONPATH=src python -m tradepulse.cli._index"


@pytest.mark.parametrize("env", [{}, {"COLUMNS": "120"}, {"COLUMNS": "60"}, {"TERMINAL_WIDTH": "100"},
                                 {"FORCE_COLOR": "1"}, {"FORCE_COLOR": "1", "COLUMNS": "200"},
                                 {"FORCE_COLOR": "1", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}],
                         ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()) or "default")
@pytest.mark.parametrize("args", [["--help"], []], ids=["--help", "no-args"])
def test_fast_root_help_is_typers(env, args):
    """Same bytes, same exit code as Typer's help of the full app (which loads every command module)."""
    fast = _run([sys.executable, "-c", FAST, *args], env)
    slow = _run([sys.executable, "-c", TYPER, *args], env)
    assert slow.stdout.count(b"Commands") == 1 and b"complexity" in slow.stdout
    assert fast.stdout == slow.stdout
    assert (fast.returncode, fast.stderr) == (slow.returncode, slow.stderr) == ((0 if args else 2), b"")
    if "FORCE_COLOR" in env and "_TYPER_FORCE_DISABLE_TERMINAL" not in env:
        assert b"\x1b[" in fast.stdout


def test_import_boundary():
    """``import tradepulse.cli`` loads no CLI framework and no data stack; ``tradepulse --help`` no Typer."""
    out = _py("import sys, tradepulse.cli\n"
              f"print(sorted(m for m in {HEAVY + ('typer', 'rich')!r} if m in sys.modules))")
    assert out.stdout.decode().strip() == "[]", out.stderr.decode()
    out = _py("import sys; sys.argv = ['tradepulse', '--help']\nfrom tradepulse.cli import main\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              f"print(sorted(m for m in {HEAVY + ('typer',)!r} if m in sys.modules), file=sys.stderr)")
    assert out.stderr.decode().strip() == "[]"


def test_every_command_help_stays_light_and_loads_only_its_module():
    """``tradepulse <command> --help`` imports none of the data stack (nor Pydantic, which Typer 0.29 pulls
    in to coerce an absent flag) and only the command's own CLI module."""
    from tradepulse.cli._index import COMMANDS
    for name, module, _ in COMMANDS:
        out = _py("import sys\nfrom tradepulse.cli import app\n"
                  f"try:\n    app([{name!r}, '--help'], prog_name='tradepulse')\nexcept SystemExit:\n    pass\n"
                  f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), sorted(m.split('.')[2] for m in "
                  "sys.modules if m.startswith('tradepulse.cli.') and m.split('.')[2] not in "
                  "('common', '_console', '_index', '_lazy', '_helptable')), file=sys.stderr)")
        heavy, loaded = out.stderr.decode().strip().splitlines()[-1].split("] [")
        assert heavy == "[", (name, heavy)
        mods = {m.strip("'[] ") for m in loaded.split(",")} - {""}
        assert module in mods and mods <= {module, "indicators_current", "indicators_survival"}, (name, mods)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z0-9_'-]*[A-Za-z0-9]", text))


def test_80_column_root_help_breaks_no_word():
    """Every word of the root listing appears whole in the 80-column help (Rich wraps between words; a word
    folded across lines or cut with an ellipsis would be missing)."""
    from tradepulse.cli._index import COMMANDS, EAGER_COMMANDS

    root = _py(FAST.replace("sys.argv[1:]", "['--help']"), {"COLUMNS": "80"}).stdout.decode()
    assert max(len(line) for line in root.splitlines()) == 80
    for name, text in [*EAGER_COMMANDS, *((n, t) for n, _, t in COMMANDS)]:
        assert _words(text) <= _words(root), (name, _words(text) - _words(root))


def _leaf_commands():
    from tradepulse.cli._index import COMMANDS
    from tradepulse.cli._lazy import load_module

    def walk(path, cmd):
        if hasattr(cmd, "commands"):
            for n, c in cmd.commands.items():
                yield from walk([*path, n], c)
        else:
            yield path
    for name, module, _ in COMMANDS:
        yield from walk([name], load_module(module)[name])


#: One fresh interpreter prints every leaf command's ``--help`` (Typer's app, as ``TYPER`` runs it) at 80
#: columns, each captured on its own: the same bytes as one process per command (checked for all 46 when this
#: was written), for one interpreter start instead of 46.
HELPS = ("import contextlib, io, json, sys\nfrom tradepulse.cli import app\nout = {}\n"
         "for path in json.loads(sys.argv[1]):\n"
         "    buf = io.StringIO()\n"
         "    with contextlib.redirect_stdout(buf):\n"
         "        try:\n            app([*path, '--help'], prog_name='tradepulse')\n"
         "        except SystemExit:\n            pass\n"
         "    out[' '.join(path)] = buf.getvalue()\n"
         "sys.stdout.write(json.dumps(out))")


@pytest.fixture(scope="module")
def helps_at_80() -> dict[str, str]:
    import json

    paths = [list(p) for p in _leaf_commands()]
    done = _run([sys.executable, "-c", HELPS, json.dumps(paths)], {"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout.decode())


@pytest.mark.parametrize("path", [pytest.param(p, id=" ".join(p)) for p in _leaf_commands()])
def test_80_column_command_help_breaks_no_word(path, helps_at_80):
    """Every word of a command's help and of its options' help appears whole in its 80-column help."""
    from tradepulse.cli import app
    import typer

    cmd = typer.main.get_command(app)
    for part in path:
        cmd = cmd.commands[part]
    out = helps_at_80[" ".join(path)]
    assert max(len(line) for line in out.splitlines()) <= 80
    texts = [(cmd.help or "").split("\n\n")[0], *(getattr(p, "help", None) or "" for p in cmd.params)]
    missing = set().union(*(_words(t) - _words(out) for t in texts))
    assert not missing, missing
    # nothing cut with an ellipsis (Rich's mark of a cell too narrow); the texts' own "…" aside
    assert out.count("…") <= sum(t.count("…") for t in texts), [ln for ln in out.splitlines() if "…" in ln]
