"""The monthly report view and the hot-spot warnings widget (信息月报, 热点预警)."""
