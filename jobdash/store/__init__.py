"""The persistent watchlist: entries, the latest answer for each job, the servers behind
sub-jobs, the history of finished jobs and remembered preferences."""

from jobdash.store.codec import AddResult
from jobdash.store.core import Store
from jobdash.store.schema import SCHEMA_VERSION
from jobdash.store.sqlite import RecordError, StoreError

__all__ = ["SCHEMA_VERSION", "AddResult", "RecordError", "Store", "StoreError"]
