"""The local web studio: one page over the same pipeline and take cache as the CLI."""
