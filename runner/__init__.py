"""runner: declarative YAML playbooks for scripted vendor-API procedures."""

__version__ = "0.1.0"
