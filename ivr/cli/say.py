from ivr.prompts.cli import register

__all__ = ["register"]
