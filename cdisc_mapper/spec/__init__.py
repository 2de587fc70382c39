"""The spec format (pydantic models) and its YAML loader with line-numbered errors."""
