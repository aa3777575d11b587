"""Files: WAV, MP3 with tags and chapters, cue sheet, captions, written atomically."""
