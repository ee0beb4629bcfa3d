"""`hall-relay`: pulls each camera once and serves it to every console, the patrol and the
evidence ring (gst-rtsp-server under the system Python, `_server.py`; the venv side in
`server.py`, the wire types in `states.py`, what it serves in `spec.py`)."""
