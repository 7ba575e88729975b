"""Generator of the Acme Robotics demo corpus; run ``python examples/acme/make_corpus.py``."""
