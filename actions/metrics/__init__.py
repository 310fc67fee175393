"""The revenue dashboard's figures (docs/METRICS.md): per day from the ledger (days.py), the
month bridge and Home's figures (figures.py)."""
