"""The exports ``personafm export --what`` offers, one registration each (``builtin``)."""
