"""ivrnav: a deterministic IVR navigator driven by declarative menu files."""

__version__ = "0.1.0"
