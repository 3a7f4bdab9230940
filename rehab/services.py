"""The five agency services, in the order of the workflow (one name each for the CLI's choices)."""

SERVICES = ("survey", "assessment", "approval", "delivery", "settlement")
