"""Command Hall desktop console (PySide6)."""
