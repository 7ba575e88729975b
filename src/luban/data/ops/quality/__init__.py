"""quality operators."""
