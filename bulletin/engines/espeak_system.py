"""The machine's own espeak-ng, for presets that ask for `engine: espeak-system`."""

from bulletin.engines.espeak import create_system as create

__all__ = ["create"]
