"""The command line: one thin module per command group. Only this package formats terminal output."""
