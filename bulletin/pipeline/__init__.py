"""The stages in order: plan, render, preview, check; progress reporting and playback."""
