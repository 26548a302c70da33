"""The kernel every area stands on: the clock, the SQLite store, the event stream and its dispatcher,
the scheduler, the error shape, request binding, JSON files, the data dir's lock and the HTTP server."""
