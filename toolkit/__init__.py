"""brandkit: collect, validate and merge party-branch brand applications into the office's master."""

__version__ = "0.1.0"
