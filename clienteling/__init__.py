"""Clienteling: the store app that shows staff everything the company knows about the customer in front of them."""

__version__ = "0.1.0"
