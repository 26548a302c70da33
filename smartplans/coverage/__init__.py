"""Line, branch and function coverage of plans, workflow actions' templates and helper libraries.

mini-racer offers no inspector, so V8's own coverage cannot be read: each plan is instrumented before it is
compiled, by Istanbul's instrumenter running in V8 (instrumenter/, vendored and byte-checked), and counts into
an object of the plans' context. A step is replayed after each host call; only its last run counts
(smartplans/plan_globals.js). `PlanCoverage` (recorder.py) keeps the counters of one process, `attribution.py`
maps a visual workflow's generated lines back to the template lines they came from, `data.py` holds what a run
covered per source file (merged across processes), and `reports.py` writes LCOV, Cobertura and the table.
"""
