"""tcbase's own tests; runnable by ``python -m unittest discover`` and by pytest."""
