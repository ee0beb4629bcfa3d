"""The map panel's strings, Chinese first, English second (joined to console.kit.i18n)."""

from __future__ import annotations

from console.kit import i18n

ZH = {
    "title": "一张图",
    "layer.outline": "县界",
    "layer.townships": "乡镇",
    "layer.grids": "网格",
    "layer.hotspots": "热点",
    "layer.cameras": "摄像机",
    "layer.events": "事件",
    "layer.labels": "名称",
    "search": "搜索地点…",
    "not_found": "未找到：{text}",
    "found": "已定位：{name}",
    "fit": "全县",
    "fullscreen": "全屏",
    "layers": "图层",
    "cam.online": "在线",
    "cam.offline": "离线",
    "cam.faulty": "故障",
    "cam.unknown": "未巡检",
    "ev.red": "红色预警",
    "ev.yellow": "黄色预警",
    "ev.green": "绿色",
    "cluster": "{n} 起事件",
    "leader": "网格长：{name}",
    "picked": "框选：{n} 路摄像机上墙",
    "picked_title": "地图框选",
    "dispatch": "派单…",
}
EN = {
    "title": "Map",
    "layer.outline": "County",
    "layer.townships": "Townships",
    "layer.grids": "Grids",
    "layer.hotspots": "Hot spots",
    "layer.cameras": "Cameras",
    "layer.events": "Events",
    "layer.labels": "Names",
    "search": "Find a place…",
    "not_found": "Not found: {text}",
    "found": "Found: {name}",
    "fit": "County",
    "fullscreen": "Full screen",
    "layers": "Layers",
    "cam.online": "online",
    "cam.offline": "offline",
    "cam.faulty": "faulty",
    "cam.unknown": "not patrolled",
    "ev.red": "red warning",
    "ev.yellow": "yellow warning",
    "ev.green": "green",
    "cluster": "{n} events",
    "leader": "Grid leader: {name}",
    "picked": "Picked: {n} cameras to the wall",
    "picked_title": "Map selection",
    "dispatch": "Dispatch…",
}

t = i18n.add_strings("map", ZH, EN)
