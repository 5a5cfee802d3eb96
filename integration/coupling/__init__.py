"""Couplings outside the engine: which records are paired, which are waiting, and what a selection holds.

- couplings: set up by hand, by matching, removed, restored (docs/features.md I4; BC table 5331 and its pages);
- state: what the Sales and ERP lists tell of each record's coupling (the reads behind the *Coupling* column);
- job_records: which records a queued job was given (so the lists tell them *queued*, then *failed*);
- selection: which records a selection holds, for the operations and their doors.

It may import the engine, the models, integration.binder and integration.labels; never the queue (which imports
it), the operations or a door.
"""
