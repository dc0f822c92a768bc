"""Flows and model manifests shipped with ivr (links to the repository's flows/ and models/,
copied into the wheel), so a plain pip install works from any directory."""
