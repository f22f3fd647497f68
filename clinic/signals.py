"""Signals the ground floor offers to the apps above it (clinic imports none of them).

`client_data_changed(sender, client_ids, scope_changed=False)`: sent after a write that bypasses
model signals (a queryset update of client records, bulk_create of imported assessments), so
apps keeping derived data (the dashboard's summaries) can mark it out of date. `scope_changed`:
who may see these clients may have changed (primary clinician, care team, status). Send it
inside the writer's transaction.
"""

from django.dispatch import Signal

client_data_changed = Signal()
