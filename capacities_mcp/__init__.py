"""capacities-mcp: an MCP server, API client and local sandbox for Capacities."""

__version__ = "0.1.0"

__all__ = ["__version__"]
