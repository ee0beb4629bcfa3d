"""pytest fixtures for the hub (filled in by the hub work)."""
