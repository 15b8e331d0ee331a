"""Kestra triggers run for real: S3 and local-file polling, schedules, webhooks.

One module per trigger type (`s3`, `schedule`, `local_files`, `webhook`) declares the
type's properties and how it fires; `validation` checks a flow's triggers when it
loads; `scheduler.TriggerScheduler` runs them and is what `roost triggers` and the
workbench drive (list, pause, resume, fire now). Nothing here imports boto3,
croniter or watchfiles until a trigger actually runs, so `roost validate` stays fast.
"""
