"""The centre: the central API, its storage and the demo chain."""
