"""The console mediation window (issue 5)."""
