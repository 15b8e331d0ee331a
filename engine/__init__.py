"""Roost's engine: loads Kestra-style flows and runs them in-process.

Nothing here imports the TUI or Textual; headless commands stay fast.
"""

__version__ = "0.1.0"
