"""The console's live event queue: a Qt-free model, a controller, and the Qt panel."""
