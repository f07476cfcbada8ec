"""Text for people, shared by the headless output and the dashboard: API text made safe to
show, JSON made safe to store, the status vocabulary, and durations, progress and times."""
