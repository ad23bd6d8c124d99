"""Neural networks: shared embeddings, the toy MLPs, and (for images) the ADM U-Net and classifiers."""
