"""Cluster tests: several ivr worker processes behind the Kamailio front door on shared stores."""
