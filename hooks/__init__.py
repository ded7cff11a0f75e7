"""The git hook scripts (sh). Shipped as workspace_builders.hooks; read with importlib.resources."""
