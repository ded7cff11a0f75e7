"""The workspace-root templates. Shipped as workspace_builders.templates; read with importlib.resources."""
