"""The agency services of this deployment, in the order of the workflow (one name each for the CLI's
choices), read from deploy/services.toml."""

from kernel.deployment import load_deployment

SERVICES = load_deployment().names
