"""Model selection and loading: catalog of families, chat templates, tiny-model kit, path-based loading."""
