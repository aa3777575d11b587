"""Who sounds how: voice presets (voices/*.yaml), the lexicon, casting, the voice clash check."""
