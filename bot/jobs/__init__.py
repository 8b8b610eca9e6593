"""The job's whole life, without Discord: model, admission, queue, runner, recovery, delivery guard.

See docs/architecture.md for the states and who moves a job between them.
"""
