"""Luigi tasks, in the order data flows: extract, load, transform, publish, run."""

from storepipe.tasks.extract import ExtractCustomers, ExtractOrders, ExtractRiskScores
from storepipe.tasks.load import LoadCustomers, LoadOrders, LoadRiskScores
from storepipe.tasks.publish import PublishMarts
from storepipe.tasks.run import RangeWindows, RunWindow
from storepipe.tasks.transform import TransformModel

__all__ = [
    "ExtractCustomers",
    "ExtractOrders",
    "ExtractRiskScores",
    "LoadCustomers",
    "LoadOrders",
    "LoadRiskScores",
    "PublishMarts",
    "RangeWindows",
    "RunWindow",
    "TransformModel",
]
