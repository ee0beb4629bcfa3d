"""The mark of the place chosen in the map's search: an orange ring of constant size in
pixels over the place (the model's `found`), on every view of the model."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsView

from console.kit.qt_observe import follow
from console.map.items import scene_point
from console.map.model import MapModel, Place

FOUND = QColor("#ff7a00")
RING_PX = 18.0


def add_found_marker(view: QGraphicsView, model: MapModel) -> QGraphicsEllipseItem:
    """Put the ring in `view`'s scene, following `model.found` while the view lives."""
    ring = QGraphicsEllipseItem(-RING_PX, -RING_PX, 2 * RING_PX, 2 * RING_PX)
    ring.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
    pen = QPen(FOUND, 4.0)
    pen.setCosmetic(True)
    ring.setPen(pen)
    ring.setBrush(Qt.BrushStyle.NoBrush)
    ring.setZValue(40)
    ring.setVisible(False)
    view.scene().addItem(ring)

    def show(place: Place | None) -> None:
        ring.setVisible(place is not None)
        if place is not None:
            ring.setPos(scene_point(place.at))

    follow(view, model.found_changed, show)
    show(model.found)
    return ring
