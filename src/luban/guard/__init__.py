"""Guard layer: detectors, scanners and policies shared by data curation, the gateway and evaluation."""
