"""The full synchronisation (docs/features.md I6; BC page 5373) and the partitioned runs it is made of.

- review: the recommendations, the lines and their status, whether a run may be restarted;
- run: start or restart a run, advance it, run its lines, recover the lines whose worker died;
- partitions: one mapping's large run split into key-range partitions any worker claims, runs and commits;
- partitions_progress: how far a partitioned run is (reads only, so the review shows it without the runner).

It may import the engine, the coupling, the models, integration.mapping_order and integration.queue (the tasks the
run hands its lines and partitions to); never a door: its admin page is integration/admin/full_sync.py, its command
``full_sync``, its API integration/api/mappings.py.
"""
