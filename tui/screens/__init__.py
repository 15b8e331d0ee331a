"""Screens pushed over the workbench: inputs form, help, artifact preview and save."""
