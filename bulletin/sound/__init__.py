"""Takes and their cache, builtin stings and beds, effects, loudness measurement."""
