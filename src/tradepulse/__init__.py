"""tradepulse — trade indicators, roadmap targets and working-group tools.

Data flows one way: ``ingest`` → ``warehouse`` → ``indicators`` → ``roadmap`` / ``groups`` → ``reports`` / ``web``.
The CLI, web app and reports only call this Python API.
"""

__version__ = "0.1.0"
