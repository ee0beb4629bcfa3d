"""Janus as the meetings' media engine: `process` (a `janus -F` of our own), `client`
(its HTTP API), `rooms` (`JanusMedia`, the `MeetingMedia` implementation), `recording`
(the room's recorder files to one MP4)."""
