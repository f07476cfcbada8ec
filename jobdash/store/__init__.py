"""The persistent watchlist: entries, the latest answer for each job, the servers behind
sub-jobs, the history of finished jobs and remembered preferences. `core.Store` is the way
in; its errors are `sqlite.StoreError` and `sqlite.RecordError`."""
