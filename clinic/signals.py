"""Signals the ground floor offers to the apps above it (clinic imports none of them).

`client_data_changed(sender, client_ids)`: sent after a bulk write that bypasses model signals
(e.g. bulk_create of imported assessments), so apps keeping derived data (the dashboard's
summaries) can mark it out of date. Send it inside the writer's transaction.
"""

from django.dispatch import Signal

client_data_changed = Signal()
