"""The watchlist and what it knows: its values (keys, entries, snapshots, poll updates),
counts per state, the history that ETA and stall marks learn from, the servers behind
sub-jobs, and exports."""
