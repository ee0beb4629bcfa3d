"""PTZ at the hub: who may move a camera, who holds it now, who moved which camera when.

The console talks ONVIF to the camera itself (`streams.ptz`, on its network thread);
before it moves a camera it asks the hub for the camera's hold (`PtzHoldRequest`),
which checks the operator's role, grants or renews the hold, writes the audit row and
publishes the change so every console shows "被 王某 控制中". See docs/ptz.md.
"""
