"""What to say: the story model, its loader (positions, limits, errors), YAML nodes, the JSON Schema, transcript import."""
