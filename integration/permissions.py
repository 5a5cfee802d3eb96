"""The integration's permission strings, named once: the admin screens and the API check the same ones."""

# Run a synchronisation, a full synchronisation or a coupling by match (the custom permission of SyncJob).
RUN_PERMISSION = "integration.run_synchronization"
# Couple, uncouple, restore skipped couplings (the custom permission of Coupling).
COUPLE_PERMISSION = "integration.change_couplings"
VIEW_COUPLING_PERMISSION = "integration.view_coupling"
VIEW_JOB_PERMISSION = "integration.view_syncjob"
VIEW_CONFLICT_PERMISSION = "integration.view_syncconflict"
SETUP_PERMISSION = "integration.change_connectionsetup"
