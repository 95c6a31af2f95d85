"""Veil's command-line interface (Typer), a thin layer over the library."""
