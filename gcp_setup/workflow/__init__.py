"""The work on one project, plan then apply, that a single run does once and a fleet maps over its entries."""
