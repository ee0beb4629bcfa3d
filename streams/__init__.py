"""Media: RTSP ingest, evidence, diagnosis, WebRTC, the camera simulator. No Qt here."""
