"""Python client of the cortical-rnn HTTP API (``cortical-rnn serve``)."""

from .client import ApiError, Client

__all__ = ["Client", "ApiError"]
__version__ = "0.1.0"
