// The embeddable chat widget (to be built).
