"""The persistent watchlist: entries, the latest snapshot of each job, status transitions."""

from jobdash.store.codec import AddResult
from jobdash.store.core import Store
from jobdash.store.schema import SCHEMA_VERSION
from jobdash.store.sqlite import RecordError, StoreError
from jobdash.watch.values import Transition

__all__ = ["SCHEMA_VERSION", "AddResult", "RecordError", "Store", "StoreError", "Transition"]
