"""The web console (pages served locally under /console) and the embeddable chat widget."""
