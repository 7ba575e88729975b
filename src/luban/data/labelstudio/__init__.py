"""Label Studio round trip: dataset -> tasks in Label Studio's import JSON -> annotations -> dataset.

Modules: `tasks` (labeling configs and task JSON for text classification and pairwise preference),
`annotations` (read Label Studio's JSON export back into rows), `stage` (the export and import
functions the CLI calls). Label Studio itself is an optional extra (`luban[labelstudio]`) that runs
as its own server; Luban only speaks its file formats, so no Label Studio code is imported here.
"""

from luban.data.labelstudio.stage import LabelStudioImportConfig, export_tasks, import_stage

__all__ = ["LabelStudioImportConfig", "export_tasks", "import_stage"]
