"""PTZ over ONVIF: the client (`onvif_client`, onvif-zeep-async), the link's states
(`link`), and the pure mapping from a drag, keys or the wheel to speeds (`intent`).
No Qt, no `dispatch`: the console's network thread drives it.
"""
