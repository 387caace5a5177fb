"""The pipeline: one module per stage, each a plain function over domain objects."""
