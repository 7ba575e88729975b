"""The spine every layer stands on: configs, workspace and artifacts, lineage, errors, progress."""
