"""Audio: the DJ's voice (pyttsx3 over espeak-ng) for the UI, and WAV export of a
station's talk. Beside ``tui``, not in it: the CLI renders audio without a terminal UI."""
