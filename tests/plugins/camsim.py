"""pytest fixtures for the camera simulator (filled in by the simulator work)."""
