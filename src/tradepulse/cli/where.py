"""Print the path of the CLI's driver file (``tradepulse/cli/__main__.py``), for ``spark-submit``."""

from pathlib import Path

if __name__ == "__main__":
    print(Path(__file__).with_name("__main__.py"))
